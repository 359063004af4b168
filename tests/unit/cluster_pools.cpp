#define CAF_SUITE cluster_pools

#include "cluster_fixture.hpp"

#include "persistence/errors.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

// A cluster retires the pool of a service that stayed idle and empty for
// pool_retention, so a stream of service names seen once does not keep a pool actor
// each for ever; a pool with work or a parked poll stays, and nothing that races the
// retirement is lost.
namespace {

struct fixture : testing::cluster_fixture {
  fixture() {
    options.max_services_per_cluster = 2;
    options.pool_retention = std::chrono::minutes{60};
    // No stall while the tests wait for hours: a running job stays running.
    options.machine_stall = std::chrono::hours{10};
    options.machine_retention = std::chrono::hours{0};
    restart_cluster(); // with the options above
  }

  create_job_request create_on(const std::string& service) {
    create_job_request request;
    request.service = service;
    request.target_fn = "f";
    request.target_args = "YXJncw==";
    request.timeout_seconds = 5 * 3600;
    return request;
  }

  jobs_request poll_on(const std::string& service, std::int32_t ttl_ms = 5000) {
    auto request = poll("m1");
    request.service = service;
    request.ttl_ms = ttl_ms;
    return request;
  }

  /// Creates a job on `service`, has it dispatched and resulted: the pool is then
  /// empty, and idle from now on.
  void run_one_job(const std::string& service) {
    auto id = ask<std::string>(create_on(service));
    auto taken = ask<std::vector<dispatched_job>>(poll_on(service));
    CAF_REQUIRE_EQUAL(taken.size(), 1u);
    CAF_REQUIRE(ask<bool>(result(id, "m1")));
  }

  /// Whether the cluster has room for one more service: a create naming a new one is
  /// taken, or refused with limit_reached.
  bool admits_service(const std::string& service) {
    auto response = self->request(cluster, caf::infinite, create_on(service));
    run();
    bool admitted = false;
    response.receive([&](std::string&) { admitted = true; },
                     [&](caf::error& err) {
                       CAF_CHECK_EQUAL(code_of(err), error_code::limit_reached);
                     });
    return admitted;
  }

  /// The actor whose next message is a question to retire, if any.
  caf::scheduled_actor* asked_to_retire() {
    for (auto* job : sched.jobs) {
      auto* actor = dynamic_cast<caf::scheduled_actor*>(job);
      if (actor == nullptr)
        continue;
      auto* next = actor->mailbox().peek();
      if (next != nullptr && next->content().match_elements<retire_atom>())
        return actor;
    }
    return nullptr;
  }

  /// Moves the clock a minute at a time, running every message, until the cluster asks
  /// a pool to retire; returns that pool before it read the question (null if none
  /// was asked within `limit`).
  caf::scheduled_actor* advance_until_retire_asked(caf::timespan limit = 3h) {
    for (caf::timespan waited{0}; waited < limit; waited += 1min) {
      sched.advance_time(1min);
      while (sched.try_run_once())
        if (auto* pool = asked_to_retire())
          return pool;
    }
    return nullptr;
  }

  /// The pool asked to retire (advance_until_retire_asked), as the scheduler's job
  /// and as a handle the test monitors.
  std::pair<caf::scheduled_actor*, caf::actor> watch_retire_asked() {
    auto* pool = advance_until_retire_asked();
    CAF_REQUIRE(pool != nullptr);
    auto handle = caf::actor_cast<caf::actor>(pool);
    self->monitor(handle);
    return {pool, handle};
  }

  /// Checks that the parked `poll` of `service` is answered with the next job created.
  template <class Response>
  void check_serves_next_job(Response& poll, const std::string& service) {
    auto id = ask<std::string>(create_on(service));
    std::vector<dispatched_job> taken;
    poll.receive([&](std::vector<dispatched_job>& jobs) { taken = std::move(jobs); },
                 [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    CAF_REQUIRE_EQUAL(taken.size(), 1u);
    CAF_CHECK_EQUAL(taken.front().id, id);
  }

  /// Whether `actor`, monitored by the test, has exited.
  bool has_exited(const caf::actor& actor) {
    bool down = false;
    self->receive([&](caf::down_msg& msg) { down = msg.source == actor.address(); },
                  caf::after(std::chrono::seconds{0}) >> [] {});
    return down;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_pools_tests, fixture)

CAF_TEST(a pool idle and empty past the retention is retired and frees its place) {
  run_one_job("a");
  run_one_job("b");
  CAF_CHECK(!admits_service("c"));
  auto [pool, handle] = watch_retire_asked();
  run();
  CAF_CHECK(has_exited(handle));
  // Its place in the cap is free.
  CAF_CHECK(admits_service("c"));
}

CAF_TEST(a pool is not retired before the retention) {
  run_one_job("a");
  run_one_job("b");
  CAF_CHECK_EQUAL(advance_until_retire_asked(59min), nullptr);
  CAF_CHECK(!admits_service("c"));
}

CAF_TEST(a retired service takes new jobs on a new pool) {
  run_one_job("a");
  auto [pool, handle] = watch_retire_asked();
  run();
  CAF_REQUIRE(has_exited(handle));
  auto id = ask<std::string>(create_on("a"));
  auto taken = ask<std::vector<dispatched_job>>(poll_on("a"));
  CAF_REQUIRE_EQUAL(taken.size(), 1u);
  CAF_CHECK_EQUAL(taken.front().id, id);
  CAF_CHECK(ask<bool>(result(id, "m1")));
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::success);
}

CAF_TEST(a pool with a pending job is not retired) {
  auto id = ask<std::string>(create_on("a"));
  run_one_job("b");
  advance_in_steps(2h, 1min);
  // b was retired, a was not.
  CAF_CHECK(admits_service("c"));
  CAF_CHECK(!admits_service("d"));
  auto taken = ask<std::vector<dispatched_job>>(poll_on("a"));
  CAF_REQUIRE_EQUAL(taken.size(), 1u);
  CAF_CHECK_EQUAL(taken.front().id, id);
}

CAF_TEST(a pool with a running job is not retired) {
  auto id = ask<std::string>(create_on("a"));
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll_on("a")).size(), 1u);
  run_one_job("b");
  advance_in_steps(2h, 1min);
  CAF_CHECK(admits_service("c"));
  CAF_CHECK(!admits_service("d"));
  // The attempt is still held: its result is taken.
  CAF_CHECK(ask<bool>(result(id, "m1")));
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::success);
}

CAF_TEST(a pool with a parked poll is not retired) {
  // The poll parks for three hours: the pool refuses to retire while it holds it.
  auto parked_poll = self->request(cluster, caf::infinite, poll_on("a", 3 * 3600 * 1000));
  run();
  CAF_REQUIRE_EQUAL(parked->load(), 1u);
  run_one_job("b");
  advance_in_steps(2h, 1min);
  CAF_CHECK(admits_service("c"));
  CAF_CHECK(!admits_service("d"));
  // The parked poll is answered by the next job of its service.
  check_serves_next_job(parked_poll, "a");
}

CAF_TEST(a create racing the retirement is held by the pool it reaches) {
  run_one_job("a");
  auto [pool, handle] = watch_retire_asked();
  // The create reaches the cluster while the pool has not read the question yet: the
  // cluster sends it the job, then the pool agrees (it was empty when asked).
  auto created = self->request(cluster, caf::infinite, create_on("a"));
  // The pool by value: clang 14 cannot capture a structured binding.
  sched.run_jobs_filtered([held = pool](caf::resumable* job) { return job != held; });
  CAF_REQUIRE(pool->mailbox().peek() != nullptr);
  run();
  std::string id;
  created.receive([&](std::string& value) { id = value; },
                  [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  // The agreement was void: the pool stays and dispatches the job.
  CAF_REQUIRE(!has_exited(handle));
  auto taken = ask<std::vector<dispatched_job>>(poll_on("a"));
  CAF_REQUIRE_EQUAL(taken.size(), 1u);
  CAF_CHECK_EQUAL(taken.front().id, id);
  CAF_CHECK(ask<bool>(result(id, "m1")));
  // Idle again, it is retired after another retention.
  auto* again = advance_until_retire_asked();
  CAF_CHECK(again == pool);
  run();
  CAF_CHECK(has_exited(handle));
}

CAF_TEST(a poll racing the retirement is held by the pool it reaches) {
  run_one_job("a");
  auto [pool, handle] = watch_retire_asked();
  // The poll reaches the pool behind the question: the pool agrees, then parks it.
  auto polled = self->request(cluster, caf::infinite, poll_on("a", 3600 * 1000));
  // The pool by value: clang 14 cannot capture a structured binding.
  sched.run_jobs_filtered([held = pool](caf::resumable* job) { return job != held; });
  run();
  CAF_REQUIRE(!has_exited(handle));
  CAF_CHECK_EQUAL(parked->load(), 1u);
  // The parked poll gets the next job of its service.
  check_serves_next_job(polled, "a");
}

CAF_TEST(a retired service keeps its announced definition) {
  auto announce = poll_on("a");
  announce.announces_functions = true;
  announce.functions = {"f", "g"};
  // The poll parks and expires empty: its answer is not waited for.
  self->request(cluster, caf::infinite, announce);
  run();
  auto* pool = advance_until_retire_asked();
  CAF_REQUIRE(pool != nullptr);
  run();
  auto details = ask<service_details>(service_details_request{"a", 10});
  CAF_CHECK(details.has_definition);
  CAF_CHECK_EQUAL(ask<cluster_details>(details_atom::value).definitions.size(), 1u);
}

CAF_TEST(a zero retention keeps pools for ever) {
  options.pool_retention = std::chrono::minutes{0};
  restart_cluster();
  run_one_job("a");
  run_one_job("b");
  CAF_CHECK_EQUAL(advance_until_retire_asked(3h), nullptr);
  CAF_CHECK(!admits_service("c"));
}

CAF_TEST_FIXTURE_SCOPE_END()
