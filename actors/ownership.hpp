#pragma once

#include "persistence/membership_records.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

// Which node serves which cluster: rendezvous hashing over the live nodes, and what a
// node does after each membership round. Pure functions, so that the rules are tested
// without actors or a database.
namespace diffplane::ownership {

/// The preferred owner of `cluster_id` among the nodes `node_ids`: the one with the
/// highest hash of (node, cluster). Every node computes the same answer from the same
/// list, a node joining takes about 1/n of the clusters, and a node leaving moves only
/// its own. Empty when the list is.
std::string preferred_owner(const std::vector<std::string>& node_ids,
                            std::string_view cluster_id);

/// What a node's clusters look like to it when it plans a round.
struct local_clusters {
  /// Every cluster the node knows (it has its record).
  std::unordered_set<std::string> known;
  /// The clusters whose lease the node holds, serving or loading them.
  std::unordered_set<std::string> held;
  /// The clusters whose actors are stopping (lease lost or handed off): nothing is
  /// decided about them until they are down.
  std::unordered_set<std::string> stopping;
};

struct round_plan {
  /// Clusters whose lease to acquire now.
  std::vector<std::string> acquire;
  /// A cluster to hand to its preferred owner (one per round, so that a joining node
  /// loads its clusters one after the other).
  std::optional<std::string> hand_off;
  /// Whether the view names clusters the node does not know (created on another node).
  bool unknown_clusters = false;
};

/// Decides a round: acquire the expired leases of which this node is the preferred
/// owner, and the leases the database still gives this node although it serves them no
/// more; hand off one held cluster whose preferred owner is another live node, unless a
/// hand-off is under way.
round_plan plan_round(const std::string& me, const membership_view& view,
                      const local_clusters& local);

} // namespace diffplane::ownership
