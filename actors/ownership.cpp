#include "actors/ownership.hpp"

#include <cstdint>

namespace diffplane::ownership {

namespace {

/// FNV-1a over both names, then a finalizer that spreads the bits (FNV alone leaves
/// names that differ in their last characters close together).
std::uint64_t score(std::string_view node_id, std::string_view cluster_id) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](std::string_view text) {
    for (unsigned char c : text) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
  };
  mix(node_id);
  mix("\x1f");
  mix(cluster_id);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

} // namespace

std::string preferred_owner(const std::vector<std::string>& node_ids,
                            std::string_view cluster_id) {
  const std::string* best = nullptr;
  std::uint64_t best_score = 0;
  for (const auto& id : node_ids) {
    auto s = score(id, cluster_id);
    // Ties (astronomically rare) go to the smaller id, so that every node agrees.
    if (best == nullptr || s > best_score || (s == best_score && id < *best)) {
      best = &id;
      best_score = s;
    }
  }
  return best == nullptr ? std::string{} : *best;
}

round_plan plan_round(const std::string& me, const membership_view& view,
                      const local_clusters& local) {
  std::vector<std::string> live;
  live.reserve(view.nodes.size() + 1);
  bool me_listed = false;
  for (const auto& node : view.nodes) {
    live.push_back(node.id);
    me_listed = me_listed || node.id == me;
  }
  // The round heartbeats before it reads, so the node is listed; this only guards
  // against a view made otherwise.
  if (!me_listed)
    live.push_back(me);
  round_plan plan;
  for (const auto& lease : view.leases) {
    if (local.known.count(lease.cluster_id) == 0) {
      plan.unknown_clusters = true;
      continue;
    }
    if (local.stopping.count(lease.cluster_id) > 0)
      continue;
    auto preferred = preferred_owner(live, lease.cluster_id);
    if (local.held.count(lease.cluster_id) > 0) {
      if (preferred != me && !plan.hand_off && local.stopping.empty())
        plan.hand_off = lease.cluster_id;
      continue;
    }
    if ((lease.node_id == me && !lease.expired) || (lease.expired && preferred == me))
      plan.acquire.push_back(lease.cluster_id);
  }
  return plan;
}

} // namespace diffplane::ownership
