#include "memory_leases.hpp"

#include "memory_persistence.hpp"

#include "persistence/errors.hpp"

#include <caf/all.hpp>

#include <utility>

namespace diffplane::testing {

namespace {

caf::error unavailable() {
  return make_error(error_code::unavailable, "the database is unavailable");
}

lease_keeper_actor::behavior_type memory_keeper(lease_keeper_actor::pointer self,
                                                std::shared_ptr<memory_leases> table,
                                                std::string me) {
  auto now = [self] { return self->clock().now(); };
  // The table's times as the database's milliseconds.
  auto ms = [](caf::actor_clock::time_point t) {
    return static_cast<timestamp_ms>(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch())
            .count());
  };
  auto reachable = [table, me] { return table->unreachable.count(me) == 0; };
  return {
      [=](membership_round_atom,
          const std::vector<held_lease>& held) -> caf::result<membership_view> {
        if (!reachable())
          return unavailable();
        table->heartbeats[me] = now();
        table->left.erase(me);
        membership_view view;
        for (const auto& lease : held) {
          auto it = table->leases.find(lease.cluster_id);
          if (it != table->leases.end() && it->second.node_id == me &&
              it->second.epoch == lease.epoch) {
            it->second.expires_at = now() + table->ttl;
            view.renewed.push_back(lease.cluster_id);
          }
        }
        for (const auto& [node, beat] : table->heartbeats) {
          if (table->left.count(node) > 0 || now() - beat >= table->ttl)
            continue;
          auto address = table->caf_addresses.find(node);
          if (address == table->caf_addresses.end())
            view.nodes.push_back(node_row{node, "", "", 0, 0, ms(beat)});
          else
            view.nodes.push_back(node_row{node, "", address->second.first,
                                          address->second.second, 0, ms(beat)});
        }
        for (const auto& [cluster, lease] : table->leases)
          view.leases.push_back(lease_row{cluster, lease.node_id, lease.epoch,
                                          lease.expires_at <= now(),
                                          ms(lease.expires_at)});
        return view;
      },
      [=](acquire_atom, const std::string& cluster_id) -> caf::result<lease_grant> {
        if (!reachable())
          return unavailable();
        auto& lease = table->leases[cluster_id];
        if (lease.expires_at > now() && lease.node_id != me)
          return lease_grant{};
        lease.node_id = me;
        lease.epoch += 1;
        lease.expires_at = now() + table->ttl;
        table->history.push_back({cluster_id, lease.epoch, me});
        return lease_grant{lease.epoch, std::exchange(lease.released, false)};
      },
      [=](release_lease_atom, const held_lease& held) -> caf::result<done_atom> {
        if (!reachable())
          return unavailable();
        auto it = table->leases.find(held.cluster_id);
        if (it != table->leases.end() && it->second.node_id == me &&
            it->second.epoch == held.epoch && it->second.expires_at > now()) {
          it->second.expires_at = now();
          it->second.released = true;
        }
        return done_atom::value;
      },
      [=](leave_atom) -> caf::result<done_atom> {
        if (!reachable())
          return unavailable();
        table->left.insert(me);
        for (auto& [cluster, lease] : table->leases)
          if (lease.node_id == me && lease.expires_at > now()) {
            lease.expires_at = now();
            lease.released = true;
          }
        return done_atom::value;
      },
  };
}

} // namespace

lease_keeper_actor spawn_memory_lease_keeper(caf::actor_system& system,
                                             std::shared_ptr<memory_leases> table,
                                             std::string node_id) {
  return system.spawn(memory_keeper, std::move(table), std::move(node_id));
}

std::string seeded_cluster_id(int i) {
  return "c" + std::to_string(i);
}

std::string seeded_secret(int i) {
  return "sk_cluster_" + std::to_string(i);
}

void seed_clusters(memory_store& store, const std::shared_ptr<memory_leases>& leases,
                   int count) {
  for (int i = 0; i < count; ++i) {
    store.clusters[seeded_cluster_id(i)] =
        cluster_record{seeded_cluster_id(i), seeded_secret(i), "", i + 1, false, false};
    leases->leases[seeded_cluster_id(i)];
  }
  store.fence_table = leases;
}

} // namespace diffplane::testing
