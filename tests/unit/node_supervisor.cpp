#define CAF_SUITE node_supervisor

#include "actor_fixture.hpp"
#include "memory_leases.hpp"

#include "actors/secrets.hpp"

#include <algorithm>

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::actor_fixture {
  node_actor node;
  std::shared_ptr<testing::memory_leases> leases =
      std::make_shared<testing::memory_leases>();

  fixture() {
    store->clusters["c1"] = cluster_record{"c1", "sk_one", "", 1, false, false};
    store->clusters["c2"] = cluster_record{"c2", "sk_two", "", 2, false, false};
    leases->leases["c1"];
    leases->leases["c2"];
    node = spawn_node(
        sys, node_options{},
        [this](caf::actor_system&, const std::string&) { return db; },
        [this](caf::actor_system& system, std::shared_ptr<lease_ledger> ledger) {
          return testing::spawn_memory_lease_keeper(system, leases, "node", ledger);
        });
    run();
  }

  ~fixture() {
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    run();
  }

  cluster_actor authenticate(const std::string& secret) {
    auto response = self->request(node, caf::infinite, authenticate_atom::value,
                                  secrets::sha256(secret));
    run();
    cluster_actor result;
    response.receive(
        [&](std::string&, cluster_actor& actor) { result = actor; },
        [&](caf::error& err) { CAF_MESSAGE("authenticate: " << sys.render(err)); });
    return result;
  }

  caf::actor_clock::time_point now() { return sched.clock().now(); }

  /// Moves the clock to the next timer, fires it and runs what it started.
  void advance_to_next_timer() {
    auto& clock = sched.clock();
    CAF_REQUIRE(clock.has_pending_timeout());
    advance_time(std::max(caf::timespan{0}, clock.schedule().begin()->first - now()));
  }

  /// Kills cluster c1 and returns the time it is back; it is back exactly when its
  /// restart timer fires, since every timer fires exactly when it is due.
  caf::actor_clock::time_point crash_and_await_restart() {
    auto actor = authenticate("sk_one");
    CAF_REQUIRE(actor != nullptr);
    caf::anon_send_exit(actor, caf::exit_reason::kill);
    run();
    auto deadline = now() + std::chrono::minutes{10};
    while (authenticate("sk_one") == nullptr) {
      CAF_REQUIRE(now() < deadline);
      advance_to_next_timer();
    }
    return now();
  }
};

std::chrono::milliseconds ms(caf::timespan d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(node_supervisor_tests, fixture)

CAF_TEST(the node loads every cluster and resolves their secrets) {
  auto ready = self->request(node, caf::infinite, await_ready_atom::value);
  run();
  ready.receive([](done_atom) {}, [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK(authenticate("sk_one") != nullptr);
  CAF_CHECK(authenticate("sk_two") != nullptr);
  CAF_CHECK(authenticate("sk_unknown") == nullptr);
}

CAF_TEST(a crashed cluster is restarted from the database) {
  auto before = authenticate("sk_one");
  CAF_REQUIRE(before != nullptr);
  caf::anon_send_exit(before, caf::exit_reason::kill);
  run();
  // While it waits for its restart the cluster is unavailable, not unknown.
  CAF_CHECK(authenticate("sk_one") == nullptr);
  advance_time(1s);
  run();
  auto after = authenticate("sk_one");
  CAF_REQUIRE(after != nullptr);
  CAF_CHECK_NOT_EQUAL(before.address(), after.address());
  // The other cluster was not touched.
  CAF_CHECK(authenticate("sk_two") != nullptr);
}

CAF_TEST(a cluster that keeps crashing is restarted at most five times a minute) {
  // Crash the cluster again the moment it is back, for half an hour.
  auto first_crash = now();
  std::vector<caf::actor_clock::time_point> restarts;
  while (now() < first_crash + std::chrono::minutes{30})
    restarts.push_back(crash_and_await_restart());
  CAF_REQUIRE_GREATER(restarts.size(), 6u);
  // A single crash is restarted quickly, and the next ones ever more slowly.
  CAF_CHECK_EQUAL(ms(restarts[0] - first_crash), 200ms);
  for (std::size_t i = 1; i < 5; ++i)
    CAF_CHECK_EQUAL(ms(restarts[i] - restarts[i - 1]), 200ms * (1 << i));
  // Never more than five restarts in any 60 s: a window holding the most restarts
  // starts at one of them.
  std::ptrdiff_t most_in_a_minute = 0;
  for (auto i = restarts.begin(); i != restarts.end(); ++i)
    most_in_a_minute =
        std::max(most_in_a_minute, std::lower_bound(i, restarts.end(), *i + 60s) - i);
  CAF_CHECK_EQUAL(most_in_a_minute, 5);
  // The sixth restart is the one the limit holds back: it waits until the first one
  // is a minute old, although doubling would have restarted it after 6.4 s.
  CAF_CHECK_EQUAL(ms(restarts[5] - restarts[0]), 60s);
  // The loop settles at one restart every 30 s.
  CAF_CHECK_EQUAL(ms(restarts.back() - restarts[restarts.size() - 2]), 30s);
  CAF_CHECK_EQUAL(ms(restarts[restarts.size() - 2] - restarts[restarts.size() - 3]), 30s);
}

CAF_TEST(restarts are remembered for ten minutes) {
  std::vector<caf::actor_clock::time_point> restarts;
  for (int i = 0; i < 3; ++i)
    restarts.push_back(crash_and_await_restart());
  // Just after the first restart is ten minutes old, the other two still double the
  // wait.
  // In steps, as real time passes: the node renews its leases meanwhile (one jump past
  // the lease TTL would be a node frozen that long, which loses its leases).
  advance_in_steps(restarts[0] + std::chrono::minutes{10} + 1ms - now());
  auto crashed = now();
  auto restarted = crash_and_await_restart();
  CAF_CHECK_EQUAL(ms(restarted - crashed), 800ms);
  // Ten minutes after the last restart, a crash is restarted quickly again.
  advance_in_steps(restarted + std::chrono::minutes{10} + 1ms - now());
  crashed = now();
  CAF_CHECK_EQUAL(ms(crash_and_await_restart() - crashed), 200ms);
}

CAF_TEST(a created cluster is answered once it is ready) {
  auto response = self->request(node, caf::infinite, create_cluster_atom::value,
                                std::string{"made in a test"});
  run();
  cluster_record created;
  response.receive([&](cluster_record& c) { created = c; },
                   [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK_EQUAL(created.description, "made in a test");
  CAF_CHECK_EQUAL(created.api_secret.rfind("sk_", 0), 0u);
  CAF_CHECK_EQUAL(store->clusters.count(created.id), 1u);
  CAF_CHECK(authenticate(created.api_secret) != nullptr);
}

CAF_TEST(old activity is pruned a minute after start and then hourly) {
  store->events.push_back(event_record{"c1", "jobStalled", "j", "m", "", "svc", "{}", 1});
  advance_time(59s);
  CAF_CHECK_EQUAL(store->events.size(), 1u);
  advance_time(1s);
  CAF_CHECK(store->events.empty());
  store->events.push_back(event_record{"c1", "jobStalled", "j", "m", "", "svc", "{}", 1});
  advance_time(std::chrono::minutes{59});
  CAF_CHECK_EQUAL(store->events.size(), 1u);
  advance_time(std::chrono::minutes{1});
  CAF_CHECK(store->events.empty());
}

CAF_TEST(stop commits and ends the node) {
  auto response = self->request(node, caf::infinite, stop_atom::value);
  run();
  bool stopped = false;
  response.receive([&](done_atom) { stopped = true; },
                   [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK(stopped);
}

CAF_TEST_FIXTURE_SCOPE_END()
