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
                                                std::string me,
                                                std::shared_ptr<lease_ledger> owned) {
  // Weak, as the real keeper's: the ledger goes with the node actor's state.
  std::weak_ptr<lease_ledger> ledger = owned;
  owned.reset();
  auto now = [self] { return self->clock().now(); };
  // The table's times as the database's milliseconds.
  auto ms = [](caf::actor_clock::time_point t) {
    return static_cast<timestamp_ms>(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch())
            .count());
  };
  auto reachable = [table, me] { return table->unreachable.count(me) == 0; };
  // As the real keeper: every renewal gives the ledger's leases their new deadline, and
  // the keeper renews them on its own timer when no round did for an interval.
  auto last_renewal = std::make_shared<caf::actor_clock::time_point>();
  auto last_round = std::make_shared<caf::actor_clock::time_point>(now());
  auto renew = [=](const std::vector<held_lease>& held) {
    std::vector<std::string> renewed;
    *last_renewal = now();
    for (const auto& lease : held) {
      auto it = table->leases.find(lease.cluster_id);
      if (it != table->leases.end() && it->second.node_id == me &&
          it->second.epoch == lease.epoch && !it->second.released) {
        it->second.expires_at = now() + table->ttl;
        renewed.push_back(lease.cluster_id);
      }
    }
    if (auto shared = ledger.lock())
      shared->renewed(held, renewed, lease_valid_until(now(), table->ttl));
    return renewed;
  };
  if (!ledger.expired())
    self->send(self, renew_held_atom::value);
  return {
      [=](renew_held_atom) {
        // As the real keeper: not for a node actor gone, or silent for 10 TTLs.
        auto shared = ledger.lock();
        if (!shared)
          return;
        self->delayed_send(self, lease_renewal_tick(table->ttl), renew_held_atom::value);
        if (now() - *last_renewal < lease_renewal_due(table->ttl) ||
            now() - *last_round > 10 * table->ttl || !reachable())
          return;
        auto held = shared->held();
        if (!held.empty())
          renew(held);
      },
      [=](membership_round_atom,
          const std::vector<held_lease>& held) -> caf::result<membership_view> {
        *last_round = now();
        if (!reachable())
          return unavailable();
        table->heartbeats[me] = now();
        table->left.erase(me);
        membership_view view;
        if (!held.empty())
          view.renewed = renew(held);
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
                                             std::string node_id,
                                             std::shared_ptr<lease_ledger> ledger) {
  return system.spawn(memory_keeper, std::move(table), std::move(node_id),
                      std::move(ledger));
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
