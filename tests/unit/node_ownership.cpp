#define CAF_SUITE node_ownership

#include "actor_fixture.hpp"
#include "memory_leases.hpp"

#include "actors/ownership.hpp"
#include "actors/secrets.hpp"
#include "persistence/errors.hpp"

#include <map>

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

constexpr int cluster_count = 8;

using testing::seeded_cluster_id;
using testing::seeded_secret;

/// Several nodes over one in-memory database: the store (jobs, clusters) and the lease
/// table, which fences the nodes' job writes like Postgres does.
struct fixture : testing::actor_fixture {
  std::shared_ptr<testing::memory_leases> leases =
      std::make_shared<testing::memory_leases>();
  std::map<std::string, node_actor> nodes;
  std::map<std::string, lease_keeper_actor> keepers;
  /// Weak, as the keepers': a ledger goes with its node actor.
  std::map<std::string, std::weak_ptr<lease_ledger>> ledgers;

  fixture() { testing::seed_clusters(*store, leases, cluster_count); }

  ~fixture() {
    for (auto& [id, node] : nodes)
      caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    run();
  }

  node_actor start(const std::string& node_id) {
    node_options options;
    options.membership.node_id = node_id;
    options.membership.lease_ttl = leases->ttl;
    auto db_of_node = testing::spawn_memory_persistence(sys, store);
    auto node = spawn_node(
        sys, options,
        [db_of_node](caf::actor_system&, const std::string&) { return db_of_node; },
        [this, node_id](caf::actor_system& system, std::shared_ptr<lease_ledger> ledger) {
          ledgers[node_id] = ledger;
          return keepers[node_id] =
                     testing::spawn_memory_lease_keeper(system, leases, node_id, ledger);
        });
    nodes[node_id] = node;
    run();
    return node;
  }

  cluster_actor authenticate(const node_actor& node, const std::string& secret) {
    auto response = self->request(node, caf::infinite, authenticate_atom::value,
                                  secrets::sha256(secret));
    run();
    cluster_actor result;
    response.receive([&](std::string&, cluster_actor& actor) { result = actor; },
                     [](caf::error&) {});
    return result;
  }

  /// The nodes serving cluster `i` now; checks that there is at most one.
  std::vector<std::string> servers_of(int i) {
    std::vector<std::string> result;
    for (auto& [id, node] : nodes)
      if (authenticate(node, seeded_secret(i)) != nullptr)
        result.push_back(id);
    CAF_CHECK_LESS_OR_EQUAL(result.size(), 1u);
    return result;
  }

  std::vector<std::string> live_node_ids() {
    std::vector<std::string> ids;
    for (auto& [id, node] : nodes)
      ids.push_back(id);
    return ids;
  }

  /// Advances the clock in small steps for `d` while only the lease keepers run, as
  /// when the one actor thread is busy with other actors or the machine with other
  /// processes (the keeper has a thread of its own); then the nodes catch up.
  void starve_nodes_for(caf::timespan d, caf::timespan step = 100ms) {
    for (caf::timespan passed{0}; passed < d; passed += step) {
      sched.advance_time(step);
      for (auto& [id, keeper] : keepers)
        while (sched.prioritize(keeper))
          sched.run_once();
    }
    run();
  }

  /// Advances the clock in small steps for `d`, checking after each step that no
  /// cluster is served by two nodes.
  void run_for(caf::timespan d, caf::timespan step = 100ms) {
    for (caf::timespan passed{0}; passed < d; passed += step) {
      advance_time(step);
      for (int i = 0; i < cluster_count; ++i)
        servers_of(i);
    }
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(node_ownership_tests, fixture)

CAF_TEST(a lone node acquires and serves every cluster) {
  auto node = start("node-a");
  run_for(500ms);
  for (int i = 0; i < cluster_count; ++i)
    CAF_CHECK_EQUAL(servers_of(i), std::vector<std::string>{"node-a"});
  for (const auto& [id, lease] : leases->leases) {
    CAF_CHECK_EQUAL(lease.node_id, "node-a");
    CAF_CHECK_EQUAL(lease.epoch, 1);
  }
}

CAF_TEST(a joining node takes its clusters by hand off with never two servers) {
  start("node-a");
  run_for(1s);
  start("node-b");
  run_for(30s);
  auto ids = live_node_ids();
  int moved = 0;
  for (int i = 0; i < cluster_count; ++i) {
    auto preferred = ownership::preferred_owner(ids, seeded_cluster_id(i));
    CAF_CHECK_EQUAL(servers_of(i), std::vector<std::string>{preferred});
    if (preferred == "node-b") {
      ++moved;
      CAF_CHECK_EQUAL(leases->leases[seeded_cluster_id(i)].epoch, 2);
    }
  }
  CAF_MESSAGE(moved << " of " << cluster_count << " clusters moved to node-b");
  CAF_CHECK_GREATER(moved, 0);
}

CAF_TEST(a node cut off from the database stops serving when its lease runs out) {
  start("node-a");
  run_for(1s);
  leases->unreachable.insert("node-a");
  // Renewed at most a heartbeat ago; its clock stops it before the lease's expiry.
  run_for(leases->ttl - 1s);
  CAF_CHECK_EQUAL(servers_of(0), std::vector<std::string>{"node-a"});
  run_for(1s + 100ms);
  for (int i = 0; i < cluster_count; ++i)
    CAF_CHECK(servers_of(i).empty());
  auto now = sched.clock().now();
  for (const auto& [id, lease] : leases->leases)
    CAF_CHECK_GREATER(lease.expires_at, now - 200ms);
  // Back in touch: the leases it still holds in the database are taken back.
  leases->unreachable.clear();
  run_for(2s);
  for (int i = 0; i < cluster_count; ++i)
    CAF_CHECK_EQUAL(servers_of(i), std::vector<std::string>{"node-a"});
}

CAF_TEST(a node whose actor thread is starved keeps the leases its keeper renews) {
  start("node-a");
  run_for(1s);
  // Two TTLs without a round or a lease check: the node's messages wait in its mailbox.
  starve_nodes_for(2 * leases->ttl);
  run_for(1s);
  const std::vector<std::string> node_a{"node-a"};
  auto now = sched.clock().now();
  for (int i = 0; i < cluster_count; ++i) {
    auto servers = servers_of(i);
    CAF_CHECK_EQUAL(servers, node_a);
    const auto& lease = leases->leases[seeded_cluster_id(i)];
    CAF_CHECK_EQUAL(lease.epoch, 1);
    // Fencing: the node's own deadline comes before the database's expiry.
    auto ledger = ledgers["node-a"].lock();
    CAF_REQUIRE(ledger != nullptr);
    auto valid_until = ledger->valid_until(seeded_cluster_id(i), 1);
    CAF_REQUIRE(valid_until.has_value());
    CAF_CHECK_GREATER(*valid_until, now);
    CAF_CHECK_LESS(*valid_until, lease.expires_at);
  }
  auto acquisitions = leases->history.size();
  CAF_CHECK_EQUAL(acquisitions, static_cast<std::size_t>(cluster_count));
}

CAF_TEST(a starved node whose keeper cannot renew stops at its first lease check) {
  start("node-a");
  run_for(1s);
  leases->unreachable.insert("node-a");
  starve_nodes_for(leases->ttl + 100ms);
  // The first lease check the node runs stops every cluster.
  for (int i = 0; i < cluster_count; ++i)
    CAF_CHECK(servers_of(i).empty());
}

CAF_TEST(the clusters of a lost node move to the survivors once its leases expire) {
  start("node-a");
  start("node-b");
  run_for(30s);
  // node-a can no longer reach the database (dead, frozen or cut off, as the others see
  // it): its heartbeats and renewals stop.
  leases->unreachable.insert("node-a");
  auto killed_at = sched.clock().now();
  caf::timespan all_served{0};
  for (caf::timespan passed{0}; passed < 10s; passed += 100ms) {
    run_for(100ms);
    bool all = true;
    for (int i = 0; i < cluster_count; ++i)
      all = all && servers_of(i) == std::vector<std::string>{"node-b"};
    if (all) {
      all_served = sched.clock().now() - killed_at;
      break;
    }
  }
  CAF_MESSAGE("served again after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(all_served).count()
              << " ms");
  CAF_CHECK_GREATER(all_served, caf::timespan{0});
  CAF_CHECK_LESS_OR_EQUAL(all_served, leases->ttl + 1s);
}

CAF_TEST(a write under a stale epoch is refused and the cluster stops at once) {
  auto node = start("node-a");
  run_for(500ms);
  auto cluster = authenticate(node, seeded_secret(0));
  CAF_REQUIRE(cluster != nullptr);
  // Another node acquired the lease while this one did not notice (a pause).
  auto& lease = leases->leases[seeded_cluster_id(0)];
  lease.node_id = "node-z";
  lease.epoch += 1;
  lease.expires_at = sched.clock().now() + 1h;
  auto created =
      self->request(cluster, caf::infinite,
                    create_job_request{"svc", "fn", "", "", 0, 1, false, 30, "", false});
  run();
  created.receive([](std::string&) { CAF_FAIL("a fenced create was acknowledged"); },
                  [](caf::error&) {});
  CAF_CHECK_EQUAL(store->fenced_writes, 1u);
  CAF_CHECK(store->jobs.empty());
  CAF_CHECK(servers_of(0).empty());
  // The other clusters are not affected.
  CAF_CHECK_EQUAL(servers_of(1), std::vector<std::string>{"node-a"});
}

CAF_TEST(a cluster another node created is found after that node is gone) {
  start("node-a");
  auto b = start("node-b");
  run_for(2s);
  // node-a created a cluster that node-b did not hear of, then went silent.
  store->clusters["c-new"] =
      cluster_record{"c-new", "sk_cluster_new", "", 99, false, false};
  leases->unreachable.insert("node-a");
  run_for(leases->ttl + 1s);
  auto response = self->request(b, caf::infinite, authenticate_atom::value,
                                secrets::sha256("sk_cluster_new"));
  run();
  caf::error err;
  response.receive([](std::string&, cluster_actor&) {}, [&](caf::error& e) { err = e; });
  // Read again rather than refused: the secret is a cluster's, served by no one yet.
  CAF_CHECK_NOT_EQUAL(code_of(err), error_code::unauthorized);
}

CAF_TEST(the first call of a cluster created just after a read is not refused) {
  start("node-a");
  auto b = start("node-b");
  run_for(2s);
  // node-b reads the clusters (for a secret that is nobody's)...
  CAF_CHECK(authenticate(b, "sk_nobody") == nullptr);
  // ...then another node creates a cluster, whose first call comes at once: too soon
  // for another read, so it waits for the next heartbeat's.
  store->clusters["c-new"] =
      cluster_record{"c-new", "sk_cluster_new", "", 99, false, false};
  auto response = self->request(b, caf::infinite, authenticate_atom::value,
                                secrets::sha256("sk_cluster_new"));
  run();
  advance_time(1s);
  run();
  caf::error err;
  response.receive([](std::string&, cluster_actor&) {}, [&](caf::error& e) { err = e; });
  CAF_CHECK_NOT_EQUAL(code_of(err), error_code::unauthorized);
}

CAF_TEST_FIXTURE_SCOPE_END()
