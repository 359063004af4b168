#include "bench/tools/node_placement.hpp"

#include "actors/ownership.hpp"

#include <algorithm>

namespace diffplane::bench {

namespace {

/// The node that should own the i-th cluster of the order.
std::size_t wanted_node(const placement_plan& plan, std::size_t i) {
  return plan.spread ? i % static_cast<std::size_t>(plan.nodes) : 0;
}

/// The clusters reordered so that the i-th one's preferred owner among `ids` is its
/// wanted node; empty when the owners' counts do not allow it. Any order of the clusters
/// will do (run-cycle gives loadgen the one returned), so a try only needs the right
/// number of clusters on each node, which is far likelier than a fixed owner each.
std::vector<std::string> order_for(const placement_plan& plan,
                                   const std::vector<std::string>& ids) {
  std::vector<std::vector<std::string>> owned(ids.size());
  for (const auto& cluster : plan.cluster_ids) {
    const auto owner = ownership::preferred_owner(ids, cluster);
    const auto node = std::find(ids.begin(), ids.end(), owner) - ids.begin();
    owned[static_cast<std::size_t>(node)].push_back(cluster);
  }
  std::vector<std::string> order;
  std::vector<std::size_t> taken(ids.size(), 0);
  for (std::size_t i = 0; i < plan.cluster_ids.size(); ++i) {
    const auto node = wanted_node(plan, i);
    if (taken[node] == owned[node].size())
      return {};
    order.push_back(owned[node][taken[node]++]);
  }
  return order;
}

/// Node n's id at try `attempt`.
std::string candidate(std::size_t n, long long attempt) {
  return "bench-" + std::to_string(n + 1) +
         (attempt == 0 ? std::string{} : "." + std::to_string(attempt));
}

/// Every cluster on node 1: each other node only has to lose every cluster to node 1,
/// whatever the others' ids, so each node's id is searched on its own (far fewer
/// tries than searching them all at once).
placement all_on_first(const placement_plan& plan) {
  std::vector<std::string> ids{plan.first_id};
  for (std::size_t n = 1; n < static_cast<std::size_t>(plan.nodes); ++n) {
    for (long long attempt = 0; ids.size() == n; ++attempt) {
      if (attempt == plan.max_tries)
        return {};
      std::vector<std::string> pair{plan.first_id, candidate(n, attempt)};
      if (std::all_of(plan.cluster_ids.begin(), plan.cluster_ids.end(),
                      [&](const std::string& cluster) {
                        return ownership::preferred_owner(pair, cluster) == pair[0];
                      }))
        ids.push_back(pair[1]);
    }
  }
  return {ids, plan.cluster_ids};
}

} // namespace

placement placement_for(const placement_plan& plan) {
  if (!plan.spread)
    return all_on_first(plan);
  std::vector<std::string> ids(static_cast<std::size_t>(std::max(plan.nodes, 1)));
  for (long long attempt = 0; attempt < plan.max_tries; ++attempt) {
    ids[0] = plan.first_id;
    for (std::size_t n = 1; n < ids.size(); ++n)
      ids[n] = candidate(n, attempt);
    auto order = order_for(plan, ids);
    if (!order.empty() || plan.cluster_ids.empty())
      return {ids, std::move(order)};
  }
  return {};
}

} // namespace diffplane::bench
