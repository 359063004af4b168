#pragma once

#include "persistence/lease_keeper.hpp"

#include <caf/actor_clock.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace diffplane::testing {

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
  /// Every acquisition, in order: (cluster, epoch, node).
  struct acquisition {
    std::string cluster_id;
    std::int64_t epoch;
    std::string node_id;
  };
  std::vector<acquisition> history;
};

/// A lease keeper for `node_id` over `table`, for unit tests of the node's ownership
/// logic: integration tests run the real one against Postgres.
lease_keeper_actor spawn_memory_lease_keeper(caf::actor_system& system,
                                             std::shared_ptr<memory_leases> table,
                                             std::string node_id);

} // namespace diffplane::testing
