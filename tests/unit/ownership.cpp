#define CAF_SUITE ownership

#include "actors/ownership.hpp"

#include <caf/test/unit_test.hpp>

#include <map>

using namespace diffplane;
using namespace diffplane::ownership;

namespace {

std::vector<std::string> cluster_ids(int count) {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i)
    ids.push_back("cluster-" + std::to_string(i));
  return ids;
}

membership_view view_of(std::vector<std::string> nodes, std::vector<lease_row> leases) {
  membership_view view;
  for (auto& id : nodes)
    view.nodes.push_back(node_row{id, "", "", 0, 0, 0});
  view.leases = std::move(leases);
  return view;
}

local_clusters knowing(std::vector<std::string> ids) {
  local_clusters local;
  local.known.insert(ids.begin(), ids.end());
  return local;
}

} // namespace

CAF_TEST(rendezvous hashing spreads clusters evenly and agrees everywhere) {
  std::vector<std::string> nodes{"node-a", "node-b", "node-c"};
  std::vector<std::string> shuffled{"node-c", "node-a", "node-b"};
  std::map<std::string, int> owned;
  for (const auto& id : cluster_ids(3000)) {
    auto owner = preferred_owner(nodes, id);
    CAF_CHECK_EQUAL(owner, preferred_owner(shuffled, id));
    ++owned[owner];
  }
  CAF_REQUIRE_EQUAL(owned.size(), 3u);
  for (const auto& [node, count] : owned) {
    CAF_MESSAGE(node << " owns " << count << " of 3000");
    CAF_CHECK_GREATER(count, 850);
    CAF_CHECK_LESS(count, 1150);
  }
  CAF_CHECK_EQUAL(preferred_owner({}, "cluster-1"), "");
}

CAF_TEST(a node leaving moves only its own clusters and a node joining takes a share) {
  std::vector<std::string> three{"node-a", "node-b", "node-c"};
  std::vector<std::string> two{"node-a", "node-b"};
  std::vector<std::string> four{"node-a", "node-b", "node-c", "node-d"};
  int moved_to_d = 0;
  for (const auto& id : cluster_ids(2000)) {
    auto before = preferred_owner(three, id);
    if (before != "node-c")
      CAF_CHECK_EQUAL(preferred_owner(two, id), before);
    auto after = preferred_owner(four, id);
    if (after == "node-d")
      ++moved_to_d;
    else
      CAF_CHECK_EQUAL(after, before);
  }
  CAF_CHECK_GREATER(moved_to_d, 400);
  CAF_CHECK_LESS(moved_to_d, 600);
}

CAF_TEST(a round acquires expired leases the node is preferred for and no others) {
  std::vector<std::string> nodes{"node-a", "node-b"};
  std::vector<lease_row> leases;
  std::vector<std::string> ids = cluster_ids(40);
  for (const auto& id : ids)
    leases.push_back(lease_row{id, "", 0, true, 0});
  auto plan = plan_round("node-a", view_of(nodes, leases), knowing(ids));
  CAF_CHECK(!plan.hand_off);
  CAF_CHECK(!plan.unknown_clusters);
  CAF_CHECK(!plan.acquire.empty());
  for (const auto& id : plan.acquire)
    CAF_CHECK_EQUAL(preferred_owner(nodes, id), "node-a");
  auto others = plan_round("node-b", view_of(nodes, leases), knowing(ids));
  CAF_CHECK_EQUAL(plan.acquire.size() + others.acquire.size(), ids.size());
}

CAF_TEST(a lease another node holds is not acquired until it expires) {
  std::vector<std::string> nodes{"node-a"};
  auto plan =
      plan_round("node-a", view_of(nodes, {lease_row{"c1", "node-dead", 3, false, 0}}),
                 knowing({"c1"}));
  CAF_CHECK(plan.acquire.empty());
  plan = plan_round("node-a", view_of(nodes, {lease_row{"c1", "node-dead", 3, true, 0}}),
                    knowing({"c1"}));
  CAF_CHECK_EQUAL(plan.acquire, std::vector<std::string>{"c1"});
}

CAF_TEST(a lease the database still gives this node is taken back at once) {
  // The node stopped serving it (its own clock ran out first), nobody took it since.
  auto plan = plan_round(
      "node-a", view_of({"node-a", "node-b"}, {lease_row{"c1", "node-a", 3, false, 0}}),
      knowing({"c1"}));
  CAF_CHECK_EQUAL(plan.acquire, std::vector<std::string>{"c1"});
}

CAF_TEST(a held cluster preferring another live node is handed off one at a time) {
  std::vector<std::string> nodes{"node-a", "node-b"};
  std::vector<lease_row> leases;
  auto local = knowing({});
  for (const auto& id : cluster_ids(20)) {
    leases.push_back(lease_row{id, "node-a", 1, false, 0});
    local.known.insert(id);
    local.held.insert(id);
  }
  auto plan = plan_round("node-a", view_of(nodes, leases), local);
  CAF_REQUIRE(plan.hand_off.has_value());
  CAF_CHECK_EQUAL(preferred_owner(nodes, *plan.hand_off), "node-b");
  CAF_CHECK(plan.acquire.empty());
  // While one hand-off is under way, no other starts.
  local.held.erase(*plan.hand_off);
  local.stopping.insert(*plan.hand_off);
  CAF_CHECK(!plan_round("node-a", view_of(nodes, leases), local).hand_off);
  // Alone, the node keeps everything.
  local.stopping.clear();
  CAF_CHECK(!plan_round("node-a", view_of({"node-a"}, leases), local).hand_off);
}

CAF_TEST(clusters the node does not know are reported rather than acquired) {
  auto plan = plan_round(
      "node-a", view_of({"node-a"}, {lease_row{"new", "", 0, true, 0}}), knowing({}));
  CAF_CHECK(plan.unknown_clusters);
  CAF_CHECK(plan.acquire.empty());
}
