#define CAF_SUITE bridge_cluster_restarts

#include "actor_fixture.hpp"

#include "gateway/make_actor_bridge.hpp"
#include "persistence/errors.hpp"

#include <caf/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

// A cluster actor that dies answers none of the requests parked in it (CAF 0.17 drops
// an undelivered response promise silently): the bridge actor that sent them sees the
// actor's down and sends them to whatever serves the cluster now, or answers them
// `unavailable` if nothing does within its restart wait. The real bridge on a real,
// threaded actor system (its destructor waits for its actors, which the deterministic
// coordinator would never run), in front of a fake node and fake clusters.
using namespace diffplane;
using namespace std::chrono_literals;

namespace {

using jobs_outcome = gateway::outcome<std::vector<dispatched_job>>;

struct fixture {
  testing::test_config config;
  std::unique_ptr<caf::actor_system> sys;
  /// What the node resolves the secret to; none: the cluster is starting.
  std::mutex mutex;
  caf::actor current;
  /// Polls the parking cluster holds, and polls the serving one answered.
  std::atomic<int> parked{0};
  std::atomic<int> served{0};
  caf::actor node;
  caf::actor parker;
  caf::actor server;
  std::unique_ptr<gateway::actor_bridge> bridge;
  gateway::cluster_ref cluster;

  fixture() {
    config.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(config);
    node = sys->spawn([this](caf::event_based_actor*) -> caf::behavior {
      return {
          [this](authenticate_atom,
                 const std::string&) -> caf::result<std::string, cluster_actor> {
            std::lock_guard lock{mutex};
            if (!current)
              return make_error(error_code::unavailable,
                                "cluster c1 is starting; retry shortly");
            return {std::string{"c1"}, caf::actor_cast<cluster_actor>(current)};
          },
      };
    });
    // Parks every poll, as a pool with no pending job does, and never answers it.
    parker = sys->spawn([this](caf::event_based_actor* self) -> caf::behavior {
      auto promises = std::make_shared<std::vector<caf::response_promise>>();
      return {
          [this, self, promises](jobs_request&) {
            promises->push_back(self->make_response_promise());
            ++parked;
          },
      };
    });
    server = sys->spawn([this](caf::event_based_actor*) -> caf::behavior {
      return {
          [this](jobs_request& request) -> std::vector<dispatched_job> {
            ++served;
            return {dispatched_job{"job-" + request.service, "f", "", 1}};
          },
      };
    });
    current = parker;
    bridge = gateway::make_actor_bridge(*sys, caf::actor_cast<node_actor>(node), 2);
    std::promise<gateway::outcome<gateway::cluster_ref>> found;
    bridge->authenticate("secret", [&found](gateway::outcome<gateway::cluster_ref> ref) {
      found.set_value(std::move(ref));
    });
    auto ref = found.get_future().get();
    CAF_REQUIRE(ref.ok());
    cluster = *ref.value;
  }

  ~fixture() {
    bridge.reset();
    for (auto* actor : {&node, &parker, &server})
      caf::anon_send_exit(*actor, caf::exit_reason::user_shutdown);
  }

  fixture(const fixture&) = delete;
  fixture& operator=(const fixture&) = delete;

  /// What the node resolves the secret to from now on (nullptr: starting).
  void serve_with(caf::actor actor) {
    std::lock_guard lock{mutex};
    current = std::move(actor);
  }

  /// A worker's poll of `service` with a 30 s ttl; each answer counted in `answers`,
  /// the first one kept.
  std::future<jobs_outcome> poll(const std::string& service,
                                 std::shared_ptr<std::atomic<int>> answers) {
    auto answer = std::make_shared<std::promise<jobs_outcome>>();
    auto result = answer->get_future();
    jobs_request request;
    request.service = service;
    request.ttl_ms = 30000;
    auto first = std::make_shared<std::atomic<bool>>(true);
    bridge->request_jobs(cluster, request, [answer, answers, first](jobs_outcome jobs) {
      ++*answers;
      if (first->exchange(false))
        answer->set_value(std::move(jobs));
    });
    return result;
  }

  bool wait_until_parked(int n) {
    auto until = std::chrono::steady_clock::now() + 10s;
    while (parked.load() < n && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(5ms);
    return parked.load() == n;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(bridge_cluster_restarts_tests, fixture)

CAF_TEST(polls parked in a cluster actor that dies go to the restarted one) {
  auto answers = std::make_shared<std::atomic<int>>(0);
  // Made one by one, they go to each bridge actor in turn.
  std::vector<std::future<jobs_outcome>> polls;
  for (int i = 0; i < 4; ++i)
    polls.push_back(poll("s" + std::to_string(i), answers));
  CAF_REQUIRE(wait_until_parked(4));
  // The node restarts the cluster: starting for a while, then served by a new actor.
  serve_with(nullptr);
  caf::anon_send_exit(parker, caf::exit_reason::kill);
  std::this_thread::sleep_for(300ms);
  serve_with(server);
  for (int i = 0; i < 4; ++i) {
    // Long before the poll's ttl (30 s) and the bridge's deadline (40 s).
    CAF_REQUIRE(polls[i].wait_for(3s) == std::future_status::ready);
    auto jobs = polls[i].get();
    CAF_REQUIRE(jobs.ok());
    CAF_REQUIRE_EQUAL(jobs.value->size(), 1u);
    CAF_CHECK_EQUAL(jobs.value->front().id, "job-s" + std::to_string(i));
  }
  // Each answered exactly once, by the new actor.
  std::this_thread::sleep_for(200ms);
  CAF_CHECK_EQUAL(answers->load(), 4);
  CAF_CHECK_EQUAL(served.load(), 4);
}

CAF_TEST(a poll whose cluster is not served again gets unavailable after the wait) {
  auto answers = std::make_shared<std::atomic<int>>(0);
  auto parked_poll = poll("s", answers);
  CAF_REQUIRE(wait_until_parked(1));
  serve_with(nullptr);
  auto killed = std::chrono::steady_clock::now();
  caf::anon_send_exit(parker, caf::exit_reason::kill);
  // The restart wait is 5 s; the bridge's deadline would be 40 s.
  CAF_REQUIRE(parked_poll.wait_for(10s) == std::future_status::ready);
  auto waited = std::chrono::steady_clock::now() - killed;
  CAF_CHECK_GREATER_OR_EQUAL(waited, 4s);
  auto jobs = parked_poll.get();
  CAF_REQUIRE(!jobs.ok());
  CAF_CHECK_EQUAL(jobs.error.code, error_code::unavailable);
  CAF_CHECK_EQUAL(jobs.error.message, "cluster c1 is starting; retry shortly");
  std::this_thread::sleep_for(200ms);
  CAF_CHECK_EQUAL(answers->load(), 1);
}

CAF_TEST(the dead actor is cached no more once a request finds the new one) {
  auto answers = std::make_shared<std::atomic<int>>(0);
  auto first = poll("a", answers);
  CAF_REQUIRE(wait_until_parked(1));
  serve_with(server);
  caf::anon_send_exit(parker, caf::exit_reason::kill);
  CAF_REQUIRE(first.wait_for(3s) == std::future_status::ready);
  CAF_CHECK(first.get().ok());
  // The next request of the secret goes to the new actor at once.
  std::promise<gateway::outcome<gateway::cluster_ref>> found;
  bridge->authenticate("secret", [&found](gateway::outcome<gateway::cluster_ref> ref) {
    found.set_value(std::move(ref));
  });
  auto ref = found.get_future().get();
  CAF_REQUIRE(ref.ok());
  CAF_CHECK(*static_cast<const cluster_actor*>(ref.value->actor.get()) ==
            caf::actor_cast<cluster_actor>(server));
}

CAF_TEST(a request refused as moved is answered at once when nothing serves it here) {
  // Moving away (a lease lost or handed off), not restarting: nothing is waited for.
  auto mover = sys->spawn([](caf::event_based_actor*) -> caf::behavior {
    return {
        [](jobs_request&) -> caf::result<std::vector<dispatched_job>> {
          return make_error(error_code::moved, "cluster c1 is moving; retry");
        },
    };
  });
  cluster.actor =
      std::make_shared<const cluster_actor>(caf::actor_cast<cluster_actor>(mover));
  serve_with(nullptr);
  auto answers = std::make_shared<std::atomic<int>>(0);
  auto asked = std::chrono::steady_clock::now();
  auto moved_poll = poll("s", answers);
  CAF_REQUIRE(moved_poll.wait_for(3s) == std::future_status::ready);
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - asked, 1s);
  auto jobs = moved_poll.get();
  CAF_REQUIRE(!jobs.ok());
  CAF_CHECK_EQUAL(jobs.error.code, error_code::unavailable);
  caf::anon_send_exit(mover, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
