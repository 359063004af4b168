#pragma once

#include "actors/cluster_actor.hpp"
#include "actors/mesh_gate.hpp"
#include "persistence/lease_keeper.hpp"

#include <string>
#include <vector>

namespace diffplane {

/// The node supervisor: owns the persistence actors and the clusters of this node,
/// restarts a crashed child from Postgres, and is the directory the gateway asks.
using node_actor = caf::typed_actor<
    /// Resolves an API secret, given as its SHA-256 (secrets::sha256), to its cluster;
    /// unauthorized when unknown. The raw secret never travels between actors.
    caf::replies_to<authenticate_atom, std::string>::with<std::string, cluster_actor>,
    caf::replies_to<create_cluster_atom, std::string>::with<cluster_record>,
    caf::replies_to<list_clusters_atom>::with<std::vector<cluster_record>>,
    /// The actor of a cluster by id (a forwarder when another node serves it);
    /// not_found or unavailable (starting).
    caf::replies_to<lookup_atom, std::string>::with<cluster_actor>,
    /// Where a cluster is served now: its actor here, or the gate of the peer holding
    /// its lease (exactly one of them is valid); unavailable while neither is known.
    caf::replies_to<route_atom, std::string>::with<cluster_actor, mesh_gate_actor>,
    /// The actor of a cluster served here (for the gate); unavailable otherwise.
    caf::replies_to<local_cluster_atom, std::string>::with<cluster_actor>,
    /// Answers once the database answered.
    caf::replies_to<live_atom>::with<done_atom>,
    /// Answers once every cluster known at start has loaded its state.
    caf::replies_to<await_ready_atom>::with<done_atom>,
    caf::reacts_to<cluster_ready_atom, std::string>,
    /// Spawns a cluster again after it crashed (sent by the node to itself, delayed).
    caf::reacts_to<restart_atom, std::string>,
    /// Deletes old activity (sent by the node to itself every hour).
    caf::reacts_to<prune_atom>, caf::reacts_to<release_atom>,
    /// The live nodes and every lease, as the last membership round found them.
    caf::replies_to<nodes_atom>::with<membership_view>,
    /// A membership round (sent by the node to itself every heartbeat).
    caf::reacts_to<round_atom>,
    /// Stops the clusters whose lease ran out by this node's clock (sent to itself).
    caf::reacts_to<lease_check_atom>,
    /// From the writer: writes of the cluster under that epoch were fenced.
    caf::reacts_to<fenced_atom, std::string, std::int64_t>,
    /// Stops every cluster, waits until the persistence actors committed what they got,
    /// answers, and exits: the orderly end of a node.
    caf::replies_to<stop_atom>::with<done_atom>>;

} // namespace diffplane

#include "actors/domain_options.hpp"

#include <chrono>
#include <functional>

namespace diffplane {

/// Makes a persistence actor; role is "writer" or "reader". Tests pass an in-memory one.
using persistence_factory =
    std::function<persistence_actor(caf::actor_system&, const std::string& role)>;

/// Makes the node's lease keeper, which renews the leases of the node's ledger on its
/// own timer. Tests pass an in-memory one.
using lease_keeper_factory = std::function<lease_keeper_actor(
    caf::actor_system&, std::shared_ptr<lease_ledger> ledger)>;

/// How the node takes part in the membership of the nodes sharing the database.
struct membership_options {
  std::string node_id = "node";
  /// How often the node heartbeats, renews its leases and looks at the others'.
  std::chrono::milliseconds heartbeat{1000};
  /// How long a lease lasts unless renewed; a node whose lease could not be renewed
  /// stops serving the cluster this long after its last renewal was sent, less a margin
  /// (renewals come from the rounds and from the keeper's own timer).
  std::chrono::milliseconds lease_ttl{3000};
  /// Whether the node links to its peers through CAF's middleman (the actor system
  /// must have loaded it) and forwards the requests of clusters they serve.
  bool mesh = false;
  /// What a peer's gate wants with each forwarded request (kept in Postgres).
  std::string mesh_secret;
};

struct node_options {
  domain_options domain;
  /// Stored activity older than this is deleted (hourly); 0 keeps it forever.
  std::int32_t activity_retention_hours = 168;
  /// Counts the long-polls parked in this process; made by the node when empty.
  parked_counter parked;
  /// The longest wait before restarting a cluster that keeps crashing.
  std::chrono::milliseconds max_restart_backoff{30000};
  membership_options membership;
};

/// Spawns the node supervisor; it spawns the persistence actors through `factory` and
/// its lease keeper through `keeper`, loads the clusters and spawns an actor for each
/// cluster whose lease it acquires.
node_actor spawn_node(caf::actor_system& system, node_options options,
                      persistence_factory factory, lease_keeper_factory keeper);

} // namespace diffplane
