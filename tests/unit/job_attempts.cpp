#define CAF_SUITE job_attempts

#include "cluster_fixture.hpp"

#include "persistence/errors.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

// What an attempt does while its result's write is in flight, and at its end.
namespace {

struct fixture : testing::cluster_fixture {
  using bool_response = decltype(std::declval<caf::scoped_actor&>()->request(
      std::declval<cluster_actor&>(), caf::infinite, std::declval<job_result_post>()));

  /// A job dispatched to m1.
  std::string running_job(std::int32_t retries = 1, std::int32_t timeout_seconds = 10) {
    auto id = create("f", retries, timeout_seconds);
    CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
    return id;
  }

  /// Posts a result whose write the store holds; returns the pending answer.
  bool_response post_held(const std::string& id, const std::string& value = "cmVzdWx0") {
    store->hold_state_writes = true;
    auto response = self->request(cluster, caf::infinite, result(id, "m1", value));
    run();
    return response;
  }

  /// Whether `response` has been answered (answers are mail in the test's mailbox).
  bool answered() { return !self->mailbox().empty(); }

  /// The answer of `response`: true/false, or the error code.
  std::string outcome(bool_response& response) {
    std::string out;
    response.receive(
        [&](bool persisted) { out = persisted ? "true" : "false"; },
        [&](caf::error& err) { out = std::string{to_string(code_of(err))}; });
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(job_attempts_tests, fixture)

CAF_TEST(a timeout during a result write that fails stalls the attempt) {
  auto id = running_job();
  auto post = post_held(id);
  CAF_REQUIRE_EQUAL(store->held_writes.size(), 1u);
  advance_in_steps(11s); // the deadline passes while the write is in flight
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::running);
  answer_held_writes(false);
  run();
  CAF_CHECK_EQUAL(outcome(post), "unavailable");
  // The timeout that came during the write takes effect: a new attempt, not a job
  // running forever with no deadline.
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::pending);
  auto again = ask<std::vector<dispatched_job>>(poll("m2"));
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  CAF_CHECK(ask<bool>(result(id, "m2", "cmVzdWx0", 2)));
  CAF_CHECK_EQUAL(store->job("c1", id)->attempts_used, 2);
}

CAF_TEST(a timeout during a result write that commits changes nothing) {
  auto id = running_job();
  auto post = post_held(id);
  advance_in_steps(11s);
  answer_held_writes(true);
  run();
  CAF_CHECK_EQUAL(outcome(post), "true");
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::success);
  CAF_CHECK_EQUAL(store->job("c1", id)->attempts_used, 1);
}

CAF_TEST(a silent machine during a result write that fails stalls the attempt) {
  auto id = running_job(1, 300);
  auto post = post_held(id);
  advance_in_steps(20s); // m1 goes silent while its write waits
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::running);
  answer_held_writes(false);
  run();
  CAF_CHECK_EQUAL(outcome(post), "unavailable");
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::pending);
}

CAF_TEST(a repeated result waits for the write in flight and is refused once it commits) {
  auto id = running_job();
  auto first = post_held(id);
  auto second = self->request(cluster, caf::infinite, result(id, "m1"));
  run();
  // Nothing is durable yet, so neither post may be answered.
  CAF_CHECK(!answered());
  answer_held_writes(true);
  run();
  CAF_CHECK_EQUAL(outcome(first), "true");
  CAF_CHECK_EQUAL(outcome(second), "false");
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::success);
}

CAF_TEST(a repeated result is written when the write in flight fails) {
  auto id = running_job();
  auto first = post_held(id, "Zmlyc3Q=");
  auto second = self->request(cluster, caf::infinite, result(id, "m1", "c2Vjb25k"));
  run();
  CAF_CHECK(!answered());
  answer_held_writes(false);
  run();
  CAF_CHECK_EQUAL(outcome(first), "unavailable");
  CAF_CHECK_EQUAL(outcome(second), "true");
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::success);
  CAF_CHECK_EQUAL(store->job("c1", id)->result, "c2Vjb25k");
}

CAF_TEST(a result that reaches the pool as its attempt ends is refused not lost) {
  auto id = running_job();
  auto first = post_held(id);
  // A second post and the commit's answer race: the pool forwards the post to the
  // attempt before it hears that the attempt finished.
  auto second = self->request(cluster, caf::infinite, result(id, "m1"));
  answer_held_writes(true);
  sched.run_once(); // cluster: forwards the second post to the pool
  sched.run_once(); // store: answers the held write to the attempt
  sched.run_once(); // pool: forwards the second post to the attempt, now finishing
  run();
  CAF_CHECK_EQUAL(outcome(first), "true");
  CAF_CHECK_EQUAL(outcome(second), "false");
}

CAF_TEST(a late result of an earlier attempt is refused when its machine holds the next) {
  auto id = running_job();
  advance_in_steps(11s); // attempt 1 times out; the job waits for another attempt
  auto again = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  CAF_CHECK_EQUAL(again[0].attempt, 2);
  // The worker finishes attempt 1 late: the same machine holds attempt 2, but the result
  // is not attempt 2's.
  CAF_CHECK(!ask<bool>(result(id, "m1", "bGF0ZQ==", 1)));
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::running);
  CAF_CHECK(ask<bool>(result(id, "m1", "Y3VycmVudA==", 2)));
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::success);
  CAF_CHECK_EQUAL(store->job("c1", id)->result, "Y3VycmVudA==");
}

CAF_TEST(a posted result reaches a posted wait before its write commits) {
  auto id = running_job();
  auto posted_wait = self->request(cluster, caf::infinite, posted_result_atom::value,
                                   status_request{{id}, 5000, true});
  auto committed_wait =
      self->request(cluster, caf::infinite, status_request{{id}, 5000, true});
  run();
  CAF_CHECK(!answered());
  auto post = post_held(id);
  CAF_REQUIRE(answered());
  std::vector<job_status_row> rows;
  posted_wait.receive([&](std::vector<job_status_row>& x) { rows = std::move(x); },
                      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::success);
  CAF_CHECK_EQUAL(rows[0].result, "cmVzdWx0");
  // The plain wait and the worker's post wait for the commit.
  CAF_CHECK(!answered());
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::running);
  answer_held_writes(true);
  run();
  CAF_CHECK_EQUAL(outcome(post), "true");
  committed_wait.receive([&](std::vector<job_status_row>& x) { rows = std::move(x); },
                         [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::success);
}

CAF_TEST(a posted result whose write fails leaves the attempt to post again) {
  auto id = running_job();
  auto posted_wait = self->request(cluster, caf::infinite, posted_result_atom::value,
                                   status_request{{id}, 5000, true});
  run();
  auto post = post_held(id, "Zmlyc3Q=");
  CAF_REQUIRE(answered());
  std::vector<job_status_row> rows;
  posted_wait.receive([&](std::vector<job_status_row>& x) { rows = std::move(x); },
                      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].result, "Zmlyc3Q=");
  answer_held_writes(false);
  run();
  CAF_CHECK_EQUAL(outcome(post), "unavailable");
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::running);
  // The caller already took the first result; the job stores the one that commits.
  CAF_CHECK(ask<bool>(result(id, "m1", "c2Vjb25k")));
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::success);
  CAF_CHECK_EQUAL(store->job("c1", id)->result, "c2Vjb25k");
}

CAF_TEST(a durable result nobody waits for as posted costs the cluster no message) {
  auto id = running_job();
  store->hold_state_writes = true;
  auto post = self->request(cluster, caf::infinite, result(id, "m1"));
  // The cluster routes the result, the pool hands it to the job actor, which sends its
  // write, and the store holds it: four messages. A fifth, the result as posted to the
  // cluster, is sent only when a waiter takes results as posted (none here, as for
  // every HTTP status poll).
  auto messages = sched.run();
  CAF_CHECK_EQUAL(messages, 4u);
  CAF_CHECK(!answered());
  answer_held_writes(true);
  run();
  CAF_CHECK_EQUAL(outcome(post), "true");
}

CAF_TEST(a durable result a posted wait takes costs the cluster one message) {
  auto id = running_job();
  auto posted_wait = self->request(cluster, caf::infinite, posted_result_atom::value,
                                   status_request{{id}, 5000, true});
  run();
  store->hold_state_writes = true;
  auto post = self->request(cluster, caf::infinite, result(id, "m1"));
  // The four above, and the result as posted, which answers the wait.
  auto messages = sched.run();
  CAF_CHECK_EQUAL(messages, 5u);
  std::vector<job_status_row> rows;
  posted_wait.receive([&](std::vector<job_status_row>& x) { rows = std::move(x); },
                      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::success);
  answer_held_writes(true);
  run();
  CAF_CHECK_EQUAL(outcome(post), "true");
}

CAF_TEST(a posted wait of a finished job is answered at once) {
  auto id = running_job();
  CAF_CHECK(ask<bool>(result(id, "m1")));
  auto wait = self->request(cluster, caf::infinite, posted_result_atom::value,
                            status_request{{id}, 5000, true});
  run();
  std::vector<job_status_row> rows;
  wait.receive([&](std::vector<job_status_row>& x) { rows = std::move(x); },
               [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::success);
}

CAF_TEST_FIXTURE_SCOPE_END()
