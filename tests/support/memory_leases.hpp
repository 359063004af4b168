#pragma once

#include "persistence/lease_keeper.hpp"

#include <caf/actor_clock.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

namespace diffplane::testing {

struct memory_store;

/// The nodes and cluster_leases tables in memory, shared by the lease keepers of several
/// nodes of one deterministic test; its times are the test coordinator's clock. Tests
/// read and change it directly (everything runs on the test's thread).
struct memory_leases {
  struct lease {
    std::string node_id;
    std::int64_t epoch = 0;
    caf::actor_clock::time_point expires_at{};
    /// Released by its holder rather than run out (see lease_grant).
    bool released = false;
  };
  std::map<std::string, lease> leases;
  /// Each node's last heartbeat.
  std::map<std::string, caf::actor_clock::time_point> heartbeats;
  std::set<std::string> left;
  std::chrono::milliseconds ttl{3000};
  /// Nodes whose calls fail "unavailable" (cut off from the database).
  std::set<std::string> unreachable;
  /// The CAF host and port each node publishes its gate on, as the nodes table holds
  /// them (none: the node is not linked to its peers).
  std::map<std::string, std::pair<std::string, std::int32_t>> caf_addresses;
  /// Every acquisition, in order: (cluster, epoch, node).
  struct acquisition {
    std::string cluster_id;
    std::int64_t epoch;
    std::string node_id;
  };
  std::vector<acquisition> history;
};

/// A lease keeper for `node_id` over `table`, for unit tests of the node's ownership
/// logic: integration tests run the real one against Postgres. With a ledger it renews
/// the ledger's leases on its own timer too, as the real one does.
lease_keeper_actor spawn_memory_lease_keeper(caf::actor_system& system,
                                             std::shared_ptr<memory_leases> table,
                                             std::string node_id,
                                             std::shared_ptr<lease_ledger> ledger = {});

/// The id ("c<i>") and API secret of the i-th cluster that seed_clusters makes.
std::string seeded_cluster_id(int i);
std::string seeded_secret(int i);

/// Puts `count` clusters in `store`, each with a lease row nobody acquired yet, and has
/// the store fence job writes by `leases` as Postgres does.
void seed_clusters(memory_store& store, const std::shared_ptr<memory_leases>& leases,
                   int count);

} // namespace diffplane::testing
