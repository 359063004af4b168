#define CAF_SUITE cluster_jobs

#include "cluster_fixture.hpp"

#include "persistence/errors.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::cluster_fixture {
  /// m1 took job `id` just now: another machine keeps polling, and m1 goes silent
  /// once its poll's ttl (5 s) and the stall window (10 s) have passed, to the
  /// millisecond, when the job's attempt stalls.
  void expect_stall_when_m1_falls_silent(const std::string& id) {
    for (int i = 0; i < 14; ++i) {
      CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::running);
      advance_time(1s);
      auto alive = poll("m2");
      alive.service = "other";
      self->request(cluster, caf::infinite, alive);
      run();
    }
    advance_time(1s - 1ms);
    CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::running);
    advance_time(1ms);
    CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::pending);
  }
};

status_request statuses(std::vector<std::string> ids, std::int32_t ttl_ms = 5000) {
  return status_request{std::move(ids), ttl_ms, false};
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_jobs_tests, fixture)

CAF_TEST(a created job is stored then dispatched then resulted and answered) {
  auto id = create("add");
  auto stored = store->job("c1", id);
  CAF_REQUIRE(stored != nullptr);
  CAF_CHECK_EQUAL(stored->status, job_status::pending);
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_REQUIRE_EQUAL(jobs.size(), 1u);
  CAF_CHECK_EQUAL(jobs[0].id, id);
  CAF_CHECK_EQUAL(jobs[0].target_fn, "add");
  CAF_CHECK_EQUAL(jobs[0].target_args, "YXJncw==");
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::running);
  CAF_CHECK(ask<bool>(result(id, "m1")));
  auto rows = ask<std::vector<job_status_row>>(statuses({id}));
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::success);
  CAF_CHECK_EQUAL(rows[0].result, "cmVzdWx0");
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::success);
}

CAF_TEST(a parked poll gets a new job at once) {
  auto parked_poll = self->request(cluster, caf::infinite, poll("m1"));
  run();
  CAF_CHECK_EQUAL(parked->load(), 1u);
  auto id = create("add");
  std::vector<dispatched_job> jobs;
  parked_poll.receive([&](std::vector<dispatched_job>& x) { jobs = x; },
                      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(jobs.size(), 1u);
  CAF_CHECK_EQUAL(jobs[0].id, id);
  CAF_CHECK_EQUAL(parked->load(), 0u);
}

CAF_TEST(a poll without jobs is answered empty at its ttl) {
  auto parked_poll = self->request(cluster, caf::infinite, poll("m1"));
  run();
  advance_time(4999ms);
  run();
  CAF_CHECK_EQUAL(parked->load(), 1u);
  advance_time(1ms);
  run();
  bool empty = false;
  parked_poll.receive([&](std::vector<dispatched_job>& x) { empty = x.empty(); },
                      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK(empty);
  CAF_CHECK_EQUAL(parked->load(), 0u);
}

CAF_TEST(a poll takes at most its limit) {
  for (int i = 0; i < 5; ++i)
    create("f");
  CAF_CHECK_EQUAL(ask<std::vector<dispatched_job>>(poll("m1", 3)).size(), 3u);
  CAF_CHECK_EQUAL(ask<std::vector<dispatched_job>>(poll("m2", 3)).size(), 2u);
}

CAF_TEST(a result from another machine is not persisted) {
  auto id = create("f");
  ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK(!ask<bool>(result(id, "m2")));
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::running);
  CAF_CHECK(ask<bool>(result(id, "m1")));
  CAF_CHECK(!ask<bool>(result(id, "m1")));
}

CAF_TEST(a result for an unknown job is not found) {
  auto err = ask_error<bool>(result("nope", "m1"));
  CAF_CHECK_EQUAL(code_of(err), error_code::not_found);
}

CAF_TEST(a timed out attempt is retried and the late result refused) {
  auto id = create("slow", 1, 10);
  ask<std::vector<dispatched_job>>(poll("m1"));
  advance_in_steps(10s - 1ms);
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::running);
  advance_time(1ms);
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::pending);
  CAF_CHECK_EQUAL(store->job("c1", id)->attempts_used, 1);
  CAF_CHECK(!ask<bool>(result(id, "m1")));
  auto again = ask<std::vector<dispatched_job>>(poll("m2"));
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  CAF_CHECK_EQUAL(again[0].attempt, 2);
  CAF_CHECK(ask<bool>(result(id, "m2", "cmVzdWx0", 2)));
  CAF_CHECK_EQUAL(store->job("c1", id)->attempts_used, 2);
}

CAF_TEST(a job whose attempts are spent fails and wakes its waiter) {
  auto id = create("slow", 0, 10);
  ask<std::vector<dispatched_job>>(poll("m1"));
  auto waiter = self->request(cluster, caf::infinite, statuses({id}, 20000));
  run();
  advance_in_steps(10s - 1ms);
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::running);
  CAF_CHECK_EQUAL(parked->load(), 1u);
  advance_time(1ms);
  std::vector<job_status_row> rows;
  waiter.receive([&](std::vector<job_status_row>& x) { rows = x; },
                 [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::failure);
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::failure);
}

CAF_TEST(the attempts of a silent machine stall) {
  auto id = create("f", 1);
  ask<std::vector<dispatched_job>>(poll("m1"));
  expect_stall_when_m1_falls_silent(id);
  CAF_CHECK(!ask<bool>(result(id, "m1")));
}

CAF_TEST(an idle cluster sweeps ever more rarely and work brings its sweeps back) {
  // Sweeping every second, 60 idle seconds fire 60 timeouts; backing off 1, 2, 4 ...
  // seconds, 5.
  std::size_t fired = 0;
  for (int i = 0; i < 60; ++i) {
    fired += sched.advance_time(1s);
    run();
  }
  CAF_CHECK_LESS_OR_EQUAL(fired, 6u);
  // A job and a machine wake them: the machine's silence is found to the millisecond,
  // as by a cluster that never slept.
  auto id = create("f", 1);
  ask<std::vector<dispatched_job>>(poll("m1"));
  expect_stall_when_m1_falls_silent(id);
}

CAF_TEST(a batch waiter is answered when any of its jobs finishes) {
  auto a = create("f");
  auto b = create("f");
  ask<std::vector<dispatched_job>>(poll("m1"));
  auto waiter = self->request(cluster, caf::infinite, statuses({a, b, "unknown"}));
  run();
  CAF_CHECK(ask<bool>(result(b, "m1")));
  std::vector<job_status_row> rows;
  waiter.receive([&](std::vector<job_status_row>& x) { rows = x; },
                 [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(rows.size(), 2u);
  CAF_CHECK_EQUAL(rows[0].id, a);
  CAF_CHECK_EQUAL(rows[0].status, job_status::running);
  CAF_CHECK_EQUAL(rows[1].id, b);
  CAF_CHECK_EQUAL(rows[1].status, job_status::success);
  CAF_CHECK_EQUAL(parked->load(), 0u);
}

CAF_TEST(a single status of an unknown job is not found) {
  auto err =
      ask_error<std::vector<job_status_row>>(status_request{{"missing"}, 5000, true});
  CAF_CHECK_EQUAL(code_of(err), error_code::not_found);
}

CAF_TEST(an execution id creates one job however often it is sent) {
  create_job_request request;
  request.service = "svc";
  request.target_fn = "f";
  request.execution_id = "exec-1";
  CAF_CHECK_EQUAL(ask<std::string>(request), "exec-1");
  CAF_CHECK_EQUAL(ask<std::string>(request), "exec-1");
  CAF_CHECK_EQUAL(store->jobs.size(), 1u);
  CAF_CHECK_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
}

CAF_TEST(a cached resolution answers within its ttl only) {
  create_job_request request;
  request.service = "svc";
  request.target_fn = "f";
  request.cache_key = "k";
  request.cache_ttl_seconds = 60;
  auto first = ask<std::string>(request);
  ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK(ask<bool>(result(first, "m1")));
  CAF_CHECK_EQUAL(ask<std::string>(request), first);
  request.cache_key = "other";
  CAF_CHECK_NOT_EQUAL(ask<std::string>(request), first);
  request.cache_key = "k";
  request.cache_ttl_seconds = 0;
  CAF_CHECK_NOT_EQUAL(ask<std::string>(request), first);
}

CAF_TEST(a failed insert answers an error and enqueues nothing) {
  store->failing = true;
  create_job_request request;
  request.service = "svc";
  request.target_fn = "f";
  CAF_CHECK_EQUAL(code_of(ask_error<std::string>(request)), error_code::unavailable);
  store->failing = false;
  CAF_CHECK(store->jobs.empty());
  self->request(cluster, caf::infinite, poll("m1", 1));
  run();
  CAF_CHECK_EQUAL(parked->load(), 1u);
}

CAF_TEST(polls announce machines and service definitions) {
  auto request = poll("m1");
  request.ip = "10.1.2.3";
  request.announces_functions = true;
  request.functions = {"a", "b"};
  self->request(cluster, caf::infinite, request);
  run();
  auto details = ask<cluster_details>(details_atom::value);
  CAF_REQUIRE_EQUAL(details.machines.size(), 1u);
  CAF_CHECK_EQUAL(details.machines[0].ip, "10.1.2.3");
  CAF_CHECK_EQUAL(details.machines[0].service, "svc");
  CAF_REQUIRE_EQUAL(details.definitions.size(), 1u);
  CAF_CHECK_EQUAL(details.definitions[0].functions, (std::vector<std::string>{"a", "b"}));
  CAF_CHECK_EQUAL(store->services.count("c1/svc"), 1u);
  CAF_CHECK_EQUAL(store->machines.count("c1/m1"), 1u);
}

// CAF 0.17's clock wakes its thread for every delayed message: parked requests with one
// ttl arm one timer, not one each, and each is still answered at its ttl.
CAF_TEST(parked waiters and polls with one ttl share one timer) {
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i)
    ids.push_back(create("f"));
  auto timers_before = sched.clock().schedule().size();
  std::vector<decltype(self->request(cluster, caf::infinite, statuses({})))> waiters;
  for (const auto& id : ids)
    waiters.push_back(self->request(cluster, caf::infinite, statuses({id})));
  run();
  auto waiter_timers = sched.clock().schedule().size() - timers_before;
  CAF_CHECK_EQUAL(waiter_timers, 1u);
  CAF_CHECK_EQUAL(parked->load(), 10u);
  advance_time(4999ms);
  run();
  CAF_CHECK_EQUAL(parked->load(), 10u);
  advance_time(1ms);
  run();
  CAF_CHECK_EQUAL(parked->load(), 0u);
  for (auto& waiter : waiters) {
    std::size_t rows = 0;
    waiter.receive([&](std::vector<job_status_row>& x) { rows = x.size(); },
                   [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    CAF_CHECK_EQUAL(rows, 1u);
  }
  // Polls of another service, with no job to take.
  timers_before = sched.clock().schedule().size();
  std::vector<decltype(self->request(cluster, caf::infinite, poll("m")))> polls;
  for (int i = 0; i < 10; ++i) {
    auto request = poll("m" + std::to_string(i));
    request.service = "idle";
    polls.push_back(self->request(cluster, caf::infinite, request));
  }
  run();
  auto poll_timers = sched.clock().schedule().size() - timers_before;
  CAF_CHECK_EQUAL(poll_timers, 1u);
  CAF_CHECK_EQUAL(parked->load(), 10u);
  advance_time(5s);
  run();
  CAF_CHECK_EQUAL(parked->load(), 0u);
  for (auto& poll : polls) {
    bool empty = false;
    poll.receive([&](std::vector<dispatched_job>& x) { empty = x.empty(); },
                 [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    CAF_CHECK(empty);
  }
}

CAF_TEST(a waiter with a shorter ttl is answered at its own ttl) {
  auto a = create("f");
  auto b = create("f");
  auto slow = self->request(cluster, caf::infinite, statuses({a}, 5000));
  auto fast = self->request(cluster, caf::infinite, statuses({b}, 1000));
  run();
  advance_time(999ms);
  run();
  CAF_CHECK_EQUAL(parked->load(), 2u);
  advance_time(1ms);
  run();
  CAF_CHECK_EQUAL(parked->load(), 1u);
  std::size_t rows = 0;
  fast.receive([&](std::vector<job_status_row>& x) { rows = x.size(); },
               [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK_EQUAL(rows, 1u);
  advance_time(4s);
  run();
  CAF_CHECK_EQUAL(parked->load(), 0u);
  slow.receive([&](std::vector<job_status_row>& x) { rows = x.size(); },
               [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
}

CAF_TEST(a stopped cluster ends its pools and their running attempts) {
  const auto before = sys.registry().running();
  create("add");
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
  // The pool of `svc` and the attempt's job actor.
  const auto with_attempt = sys.registry().running();
  const auto expected_with_attempt = before + 2;
  CAF_REQUIRE_EQUAL(with_attempt, expected_with_attempt);
  // As the node stops a cluster it hands off or lost: nothing of it may outlive it (a
  // pool holding a running attempt kept its timers and the process from exiting).
  caf::anon_send(cluster, stop_atom::value);
  run();
  // The cluster and its resources actor went too.
  const auto after_stop = sys.registry().running();
  const auto expected_after_stop = before - 2;
  CAF_CHECK_EQUAL(after_stop, expected_after_stop);
}

CAF_TEST_FIXTURE_SCOPE_END()
