#pragma once

#include "persistence/lease_ledger.hpp"
#include "persistence/membership_records.hpp"
#include "persistence/persistence_actor.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace diffplane {

using membership_round_atom = caf::atom_constant<caf::atom("mround")>;
using acquire_atom = caf::atom_constant<caf::atom("acquire")>;
using release_lease_atom = caf::atom_constant<caf::atom("rellease")>;
using leave_atom = caf::atom_constant<caf::atom("leave")>;
using renew_held_atom = caf::atom_constant<caf::atom("renewheld")>;

/// The node's membership in the nodes table and its cluster leases: the SQL of both, on
/// a connection of its own so that a renewal never waits behind group commits.
using lease_keeper_actor = caf::typed_actor<
    /// Heartbeats the node, renews the given leases it holds and reads every live node
    /// and every lease.
    caf::replies_to<membership_round_atom,
                    std::vector<held_lease>>::with<membership_view>,
    /// Acquires an expired lease with the next epoch; answers it (0 when another node
    /// holds the lease) and whether its last holder released it.
    caf::replies_to<acquire_atom, std::string>::with<lease_grant>,
    /// Ends a lease now, as released (a hand-off), so that the next owner need not wait
    /// for its TTL and adopts the attempts left running.
    caf::replies_to<release_lease_atom, held_lease>::with<done_atom>,
    /// Marks the node as gone and ends its leases (an orderly stop).
    caf::replies_to<leave_atom>::with<done_atom>,
    /// Renews the leases of its ledger unless a round did lately (sent by the keeper to
    /// itself, so that renewals do not wait for the node's busy actor thread).
    caf::reacts_to<renew_held_atom>>;

struct lease_keeper_options {
  std::string database_url;
  std::string node_id;
  std::chrono::milliseconds lease_ttl{3000};
  /// The leases the node serves, renewed by the keeper on its own timer and given their
  /// new local deadline (none: only the membership rounds renew).
  std::shared_ptr<lease_ledger> ledger;
};

/// Spawns the keeper on a thread of its own (libpqxx blocks).
lease_keeper_actor spawn_lease_keeper(caf::actor_system& system,
                                      lease_keeper_options options);

/// Registers `node` in the nodes table and answers the mesh secret (stored as
/// `mesh_secret_candidate` by the first node). Live-looking nodes of the same host whose
/// process is gone (a crash, a kill -9) are retired first, so that a server restarted
/// after a crash takes its clusters back at once instead of after the lease TTL. Throws
/// std::runtime_error with a one-line message when a live node already has the id or
/// the CAF node id.
std::string register_node(const std::string& database_url, const node_identity& node,
                          std::chrono::milliseconds lease_ttl,
                          const std::string& mesh_secret_candidate = "unused");

/// Records the address the node's HTTP server is bound to (`--listen` with port 0, or a
/// host name, differs from it), so that the nodes view shows where to reach the node.
/// Throws std::runtime_error when the database cannot be reached.
void record_http_address(const std::string& database_url, const std::string& node_id,
                         const std::string& http_address);

} // namespace diffplane
