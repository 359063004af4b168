#define CAF_SUITE job_actor_failures

#include "cluster_fixture.hpp"

#include "metrics/catalog.hpp"
#include "persistence/errors.hpp"

#include <stdexcept>

using namespace diffplane;
using namespace std::chrono_literals;

// A job actor is neither linked to its pool nor monitored by it. One that throws tells
// its pool before it ends, and the attempt stalls as if its machine went silent: the
// job's retry policy applies, not a wait for the next restart of the server.
namespace {

struct fixture : testing::cluster_fixture {
  /// The result value whose arrival at a job actor throws, once (empty: none).
  std::string throw_on;

  fixture() {
    options.job_result_fault = [this](const job_result_post& post) {
      if (!throw_on.empty() && post.result == throw_on) {
        throw_on.clear();
        throw std::runtime_error("injected");
      }
    };
    restart_cluster();
  }

  using bool_response = decltype(std::declval<caf::scoped_actor&>()->request(
      std::declval<cluster_actor&>(), caf::infinite, std::declval<job_result_post>()));

  /// The answer of `response` if it came: true/false, or the error code.
  std::string outcome(bool_response& response) {
    if (self->mailbox().empty())
      return "none";
    std::string out;
    response.receive(
        [&](bool persisted) { out = persisted ? "true" : "false"; },
        [&](caf::error& err) { out = std::string{to_string(code_of(err))}; });
    return out;
  }

  /// Posts a result from m1 that makes the job actor throw; returns its answer.
  std::string post_throwing(const std::string& id) {
    throw_on = "Ym9vbQ==";
    auto response = self->request(cluster, caf::infinite, result(id, "m1", throw_on));
    run();
    CAF_CHECK(throw_on.empty()); // the actor got the result and threw
    return outcome(response);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(job_actor_failures_tests, fixture)

CAF_TEST(a job actor that throws stalls its attempt and the job runs again) {
  auto failures_before = metrics::jobs().actor_failures.value();
  auto stalled_before = metrics::jobs().stalled.value();
  auto id = create("f", 1, 300);
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
  auto answer = post_throwing(id);
  CAF_CHECK_EQUAL(answer, "internal");
  // Back to pending at once, as after a silent machine: no timeout, no restart needed.
  CAF_REQUIRE_EQUAL(store->job("c1", id)->status, job_status::pending);
  CAF_CHECK_EQUAL(metrics::jobs().actor_failures.value(), failures_before + 1);
  CAF_CHECK_EQUAL(metrics::jobs().stalled.value(), stalled_before + 1);
  auto stalls = events_of("jobStalled");
  CAF_REQUIRE_EQUAL(stalls.size(), 1u);
  CAF_CHECK_EQUAL(stalls[0]->job_id, id);
  CAF_CHECK_EQUAL(stalls[0]->machine_id, "m1");
  CAF_CHECK(stalls[0]->meta_json.find("job actor failed: injected") != std::string::npos);
  auto again = ask<std::vector<dispatched_job>>(poll("m2"));
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  CAF_CHECK_EQUAL(again[0].attempt, 2);
  CAF_CHECK(ask<bool>(result(id, "m2", "ZG9uZQ==", 2)));
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::success);
  CAF_CHECK_EQUAL(store->job("c1", id)->result, "ZG9uZQ==");
  // The failed attempt's deadline went with it: no second stall when it passes.
  advance_in_steps(301s);
  CAF_CHECK_EQUAL(events_of("jobStalled").size(), 1u);
}

CAF_TEST(a job actor that throws on its last attempt fails the job for its waiters) {
  auto id = create("f", 0, 300);
  auto waiting = self->request(cluster, caf::infinite, status_request{{id}, 60000, true});
  run();
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
  post_throwing(id);
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::failure);
  // Answered now (a receive on an answer that never comes would hang the test).
  CAF_REQUIRE(!self->mailbox().empty());
  std::vector<job_status_row> rows;
  waiting.receive([&](std::vector<job_status_row>& x) { rows = x; },
                  [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::failure);
  CAF_CHECK_EQUAL(events_of("jobFailed").size(), 1u);
}

CAF_TEST(a job actor that throws while committing a failure has it committed anew) {
  auto id = create("f", 0, 10);
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
  store->hold_state_writes = true;
  advance_in_steps(11s); // the attempt times out; its failure's write is held
  CAF_REQUIRE_EQUAL(store->held_writes.size(), 1u);
  answer_held_writes(false); // refused: the actor tries again in a second
  run();
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::running);
  // The attempt ended, but its actor is still there, and takes (and refuses) results.
  post_throwing(id);
  advance_in_steps(2s);
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::failure);
  // A failure is recorded once, and no stall on top of it.
  CAF_CHECK_EQUAL(events_of("jobFailed").size(), 1u);
  CAF_CHECK_EQUAL(events_of("jobStalled").size(), 1u);
  auto rows = ask<std::vector<job_status_row>>(status_request{{id}, 0, true});
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::failure);
}

CAF_TEST(a job actor that throws while a result is written stalls from before it) {
  auto id = create("f", 1, 300);
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
  store->hold_state_writes = true;
  auto first = self->request(cluster, caf::infinite, result(id, "m1", "Zmlyc3Q="));
  run();
  CAF_REQUIRE_EQUAL(store->held_writes.size(), 1u);
  CAF_CHECK_EQUAL(post_throwing(id), "internal");
  // The poster of the result whose write was in flight hears of the failure too.
  CAF_CHECK_EQUAL(outcome(first), "internal");
  // The result's write commits, and the stall's write after it supersedes it.
  answer_held_writes(true);
  run();
  CAF_REQUIRE_EQUAL(store->job("c1", id)->status, job_status::pending);
  auto again = ask<std::vector<dispatched_job>>(poll("m2"));
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  CAF_CHECK_EQUAL(again[0].attempt, 2);
  CAF_CHECK(ask<bool>(result(id, "m2", "ZG9uZQ==", 2)));
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::success);
}

CAF_TEST_FIXTURE_SCOPE_END()
