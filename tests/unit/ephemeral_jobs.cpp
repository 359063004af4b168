#define CAF_SUITE ephemeral_jobs

#include "cluster_fixture.hpp"

#include "metrics/catalog.hpp"
#include "persistence/errors.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

// An ephemeral job (create_job_request::durable false, a native call's `durable` option)
// is dispatched and resolved like any job, but nothing of it reaches the writer: no
// insert, no state write, no activity. Its create is answered without a commit, and a
// restart of its cluster forgets it.
namespace {

struct fixture : testing::cluster_fixture {
  create_job_request ephemeral(const std::string& execution_id = {}) {
    auto request = create_request(execution_id);
    request.durable = false;
    return request;
  }

  /// The rows a status wait was answered with.
  template <class Response> std::vector<job_status_row> answer_of(Response& waiting) {
    std::vector<job_status_row> rows;
    waiting.receive([&](std::vector<job_status_row>& x) { rows = x; },
                    [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return rows;
  }

  /// `rows` is one job's, resolved with "done".
  void check_done(const std::vector<job_status_row>& rows) {
    CAF_REQUIRE_EQUAL(rows.size(), 1u);
    CAF_CHECK_EQUAL(rows[0].status, job_status::success);
    CAF_CHECK_EQUAL(rows[0].result, "ZG9uZQ==");
  }

  /// Nothing of any job was sent to the writer (a machine's activity may be).
  void check_nothing_written() {
    CAF_CHECK_EQUAL(store->job_inserts, 0u);
    CAF_CHECK(store->jobs.empty());
    CAF_CHECK(store->state_writes.empty());
    CAF_CHECK(store->held_writes.empty());
    for (const auto& event : store->events)
      CAF_CHECK_EQUAL(event.job_id, "");
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(ephemeral_jobs_tests, fixture)

CAF_TEST(an ephemeral job is dispatched and resolved with no write sent to the writer) {
  // A database that answers nothing: a durable create would wait for it forever.
  store->hold_job_inserts = true;
  store->hold_state_writes = true;
  auto id = ask<std::string>(ephemeral("e1"));
  CAF_CHECK_EQUAL(id, "e1");
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_REQUIRE_EQUAL(jobs.size(), 1u);
  CAF_CHECK_EQUAL(jobs[0].id, id);
  CAF_CHECK_EQUAL(jobs[0].attempt, 1);
  CAF_CHECK(ask<bool>(result(id, "m1", "ZG9uZQ==")));
  auto rows = ask<std::vector<job_status_row>>(status_request{{id}, 0, true});
  check_done(rows);
  check_nothing_written();
}

CAF_TEST(the result of an ephemeral job reaches its parked waiter) {
  auto id = ask<std::string>(ephemeral());
  auto waiting = self->request(cluster, caf::infinite, status_request{{id}, 60000, true});
  run();
  ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK(ask<bool>(result(id, "m1", "ZG9uZQ==")));
  auto rows = answer_of(waiting);
  check_done(rows);
  check_nothing_written();
}

CAF_TEST(a repeated execution id of a live ephemeral job answers the same job) {
  CAF_CHECK_EQUAL(ask<std::string>(ephemeral("e1")), "e1");
  CAF_CHECK_EQUAL(ask<std::string>(ephemeral("e1")), "e1");
  CAF_CHECK_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
}

CAF_TEST(an ephemeral job stalls and fails with no write sent to the writer) {
  options.machine_stall = std::chrono::hours{10};
  restart_cluster();
  auto request = ephemeral();
  request.retry_count_on_stall = 0;
  auto id = ask<std::string>(request);
  auto waiting = self->request(cluster, caf::infinite, status_request{{id}, 60000, true});
  run();
  ask<std::vector<dispatched_job>>(poll("m1"));
  self->send(cluster, machine_inactive_atom::value, std::string{"m1"});
  run();
  auto rows = answer_of(waiting);
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::failure);
  check_nothing_written();
}

CAF_TEST(an ephemeral job is not reloaded after a restart of its cluster) {
  auto pending = ask<std::string>(ephemeral("pending"));
  auto running = ask<std::string>(ephemeral("running"));
  auto durable = create("f");
  CAF_CHECK_EQUAL(ask<std::vector<dispatched_job>>(poll("m1", 2)).size(), 2u);
  restart_cluster();
  // Only the durable job comes back; the ephemeral ones are unknown.
  auto jobs = ask<std::vector<dispatched_job>>(poll("m2"));
  CAF_REQUIRE_EQUAL(jobs.size(), 1u);
  CAF_CHECK_EQUAL(jobs[0].id, durable);
  for (const auto& id : {pending, running}) {
    auto err = ask_error<std::vector<job_status_row>>(status_request{{id}, 0, true});
    CAF_CHECK_EQUAL(code_of(err), error_code::not_found);
  }
}

CAF_TEST(an ephemeral resolution does not enter the cache) {
  auto request = ephemeral();
  request.cache_key = std::string{"k"}; // a move: GCC 12 warns (-Wrestrict) on "k"
  request.cache_ttl_seconds = 3600;
  auto first = ask<std::string>(request);
  ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK(ask<bool>(result(first, "m1")));
  CAF_CHECK_NOT_EQUAL(ask<std::string>(request), first);
}

CAF_TEST(an ephemeral result reaches its waiter in three messages without a job actor) {
  auto id = ask<std::string>(ephemeral());
  auto waiting = self->request(cluster, caf::infinite, status_request{{id}, 60000, true});
  run();
  auto actors_before = sys.registry().running();
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
  // The pool runs the attempt itself: no actor is spawned for it.
  auto actors_after = sys.registry().running();
  CAF_CHECK_EQUAL(actors_after, actors_before);
  auto posted = self->request(cluster, caf::infinite, result(id, "m1", "ZG9uZQ=="));
  // The cluster routes the result to the pool, the pool resolves the job and tells the
  // cluster, which answers the waiter: three messages (there were six, by way of the
  // job actor, its job_done and its release).
  auto messages = sched.run();
  CAF_CHECK_EQUAL(messages, 3u);
  posted.receive([](bool accepted) { CAF_CHECK(accepted); },
                 [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  auto rows = answer_of(waiting);
  check_done(rows);
  check_nothing_written();
}

CAF_TEST(an ephemeral attempt times out into a second attempt and then fails) {
  options.machine_stall = std::chrono::hours{10};
  restart_cluster();
  auto request = ephemeral();
  request.timeout_seconds = 1;
  request.retry_count_on_stall = 1;
  auto id = ask<std::string>(request);
  auto waiting = self->request(cluster, caf::infinite, status_request{{id}, 60000, true});
  run();
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
  advance_time(std::chrono::seconds{3});
  // The first attempt timed out: the job runs again.
  auto again = ask<std::vector<dispatched_job>>(poll("m2"));
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  CAF_CHECK_EQUAL(again[0].attempt, 2);
  advance_time(std::chrono::seconds{3});
  auto rows = answer_of(waiting);
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::failure);
  check_nothing_written();
  // Too late: the attempt ended.
  CAF_CHECK(!ask<bool>(result(id, "m2", "bGF0ZQ==", 2)));
}

CAF_TEST(late and repeated results of an ephemeral job write no activity) {
  auto refused_before = metrics::jobs().results_not_persisted.value();
  auto id = ask<std::string>(ephemeral());
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
  CAF_CHECK(ask<bool>(result(id, "m1", "ZG9uZQ==")));
  // The job finished: the cluster, which keeps it for the linger, refuses these.
  CAF_CHECK(!ask<bool>(result(id, "m1", "ZG9uZQ==")));
  CAF_CHECK(!ask<bool>(result(id, "intruder")));
  CAF_CHECK_EQUAL(metrics::jobs().results_not_persisted.value(), refused_before + 2);
  check_nothing_written();
  // Past the linger the job is unknown, as it always was: not found, and no row.
  advance_in_steps(10s);
  auto err = ask_error<bool>(result(id, "m1"));
  CAF_CHECK_EQUAL(code_of(err), error_code::not_found);
  check_nothing_written();
}

CAF_TEST(a result of an ephemeral job waiting for its next attempt writes no activity) {
  options.machine_stall = std::chrono::hours{10};
  restart_cluster();
  auto refused_before = metrics::jobs().results_not_persisted.value();
  auto request = ephemeral();
  request.retry_count_on_stall = 1;
  auto id = ask<std::string>(request);
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
  self->send(cluster, machine_inactive_atom::value, std::string{"m1"});
  run();
  // The job is pending again: its pool refuses the result of the stalled attempt.
  CAF_CHECK(!ask<bool>(result(id, "m1")));
  CAF_CHECK_EQUAL(metrics::jobs().results_not_persisted.value(), refused_before + 1);
  check_nothing_written();
}

CAF_TEST(a job created while a poll is parked reaches it without a dispatch message) {
  auto polled = self->request(cluster, caf::infinite, poll("m1"));
  run();
  auto created = self->request(cluster, caf::infinite, ephemeral("e1"));
  // The cluster admits the job and its pool hands it to the parked poll at once, then
  // the cluster hears it runs: three messages (a fourth was the pool's to itself).
  auto messages = sched.run();
  CAF_CHECK_EQUAL(messages, 3u);
  created.receive([](std::string& id) { CAF_CHECK_EQUAL(id, "e1"); },
                  [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  std::vector<dispatched_job> jobs;
  polled.receive([&](std::vector<dispatched_job>& x) { jobs = x; },
                 [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(jobs.size(), 1u);
  CAF_CHECK_EQUAL(jobs[0].id, "e1");
}

CAF_TEST(a poll that takes three jobs tells the cluster in one message) {
  for (const auto* id : {"e1", "e2", "e3"})
    ask<std::string>(ephemeral(id));
  auto polled = self->request(cluster, caf::infinite, poll("m1", 3));
  // The cluster hands the poll to the pool (and the new machine's row to the store); the
  // pool dispatches the three jobs and tells the cluster they run in one message: four
  // messages (six with a message per job).
  auto messages = sched.run();
  CAF_CHECK_EQUAL(messages, 4u);
  std::vector<dispatched_job> jobs;
  polled.receive([&](std::vector<dispatched_job>& x) { jobs = x; },
                 [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(jobs.size(), 3u);
  // The index follows: each job runs, so a second result of it is refused as late.
  for (const auto& job : jobs)
    CAF_CHECK(ask<bool>(result(job.id, "m1", "ZG9uZQ==")));
  auto rows = ask<std::vector<job_status_row>>(status_request{{"e1", "e2", "e3"}, 0});
  CAF_REQUIRE_EQUAL(rows.size(), 3u);
  for (const auto& row : rows)
    CAF_CHECK_EQUAL(row.status, job_status::success);
}

CAF_TEST_FIXTURE_SCOPE_END()
