#pragma once

#include "actors/cluster_actor.hpp"

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
    /// The actor of a cluster by id; not_found or unavailable (restarting).
    caf::replies_to<lookup_atom, std::string>::with<cluster_actor>,
    /// Answers once the database answered.
    caf::replies_to<live_atom>::with<done_atom>,
    /// Answers once every cluster known at start has loaded its state.
    caf::replies_to<await_ready_atom>::with<done_atom>,
    caf::reacts_to<cluster_ready_atom, std::string>,
    /// Spawns a cluster again after it crashed (sent by the node to itself, delayed).
    caf::reacts_to<restart_atom, std::string>,
    /// Deletes old activity (sent by the node to itself every hour).
    caf::reacts_to<prune_atom>, caf::reacts_to<release_atom>,
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

struct node_options {
  domain_options domain;
  /// Stored activity older than this is deleted (hourly); 0 keeps it forever.
  std::int32_t activity_retention_hours = 168;
  /// Counts the long-polls parked in this process; made by the node when empty.
  parked_counter parked;
  /// The longest wait before restarting a cluster that keeps crashing.
  std::chrono::milliseconds max_restart_backoff{30000};
};

/// Spawns the node supervisor; it spawns the persistence actors through `factory`, loads
/// the clusters and spawns one actor per cluster.
node_actor spawn_node(caf::actor_system& system, node_options options,
                      persistence_factory factory);

} // namespace diffplane
