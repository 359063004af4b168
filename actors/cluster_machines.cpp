#include "actors/cluster_state.hpp"

#include "actors/activity.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace diffplane::cluster_internal {

void touch_machine(self_pointer self, const std::string& machine_id,
                   const std::string& service, const std::string& ip,
                   const std::string& deployment_id, std::chrono::milliseconds busy_for) {
  if (machine_id.empty())
    return;
  auto& st = self->state;
  // Polls from machines beyond the cap are refused before this; a result from one is
  // still taken, but the machine is not recorded.
  if (st.machines.size() >= st.context.options.max_machines_per_cluster &&
      st.machines.count(machine_id) == 0)
    return;
  auto now = self->clock().now();
  wake_sweeps(self);
  auto [it, is_new] = st.machines.try_emplace(machine_id);
  auto& machine = it->second;
  auto& record = machine.record;
  bool changed = is_new;
  if (is_new) {
    record.cluster_id = st.context.cluster.id;
    record.id = machine_id;
  }
  auto update = [&changed](std::string& field, const std::string& value) {
    if (!value.empty() && field != value) {
      field = value;
      changed = true;
    }
  };
  update(record.service, service);
  if (!service.empty()) {
    auto pool = pool_of(self, service);
    if (std::find(machine.pools.begin(), machine.pools.end(), pool) ==
        machine.pools.end())
      machine.pools.push_back(pool);
  }
  update(record.ip, ip);
  update(record.deployment_id, deployment_id);
  if (machine.inactive) {
    machine.inactive = false;
    changed = true;
    spdlog::info("event=machine_active cluster={} machine={}", st.context.cluster.id,
                 machine_id);
  }
  // A machine waiting in a long-poll is not silent: count it as seen until the poll ends.
  machine.last_seen = std::max(machine.last_seen, now + busy_for);
  record.last_ping_at = wall_now(self);
  if (changed ||
      now - machine.last_written >= st.context.options.machine_ping_write_interval) {
    machine.last_written = now;
    caf::anon_send(st.context.writer, record);
  }
}

void announce_functions(self_pointer self, const std::string& service,
                        const std::vector<std::string>& functions) {
  auto& st = self->state;
  // The poll that announces goes to the service's pool, which takes the definition
  // out of the retired ones (pool_of).
  auto [it, is_new] = st.definitions.try_emplace(service);
  if (!is_new && it->second == functions)
    return;
  it->second = functions;
  caf::anon_send(st.context.writer, service_record{st.context.cluster.id, service,
                                                   functions, wall_now(self)});
}

/// Whether `machine` has been silent for so long that the cluster forgets it.
bool is_retired(const machine_state& machine, steady_time now,
                std::chrono::hours retention) {
  return machine.inactive && retention.count() > 0 &&
         now - machine.last_seen >= retention;
}

namespace {

/// Tells the pools the machine polled that it is gone: they stall its attempts.
void tell_pools_inactive(self_pointer self, const std::string& id,
                         const machine_state& machine) {
  auto& st = self->state;
  // Not work: an agreeing pool has no attempt to stall (cluster_pools.cpp).
  for (auto pool : machine.pools)
    if (auto it = st.services.find(pool); it != st.services.end())
      self->send(it->second.pool, machine_inactive_atom::value, id);
}

void mark_inactive(self_pointer self, const std::string& id, machine_state& machine,
                   std::int64_t silent) {
  auto& st = self->state;
  machine.inactive = true;
  spdlog::info("event=machine_inactive cluster={} machine={} silent_seconds={}",
               st.context.cluster.id, id, silent);
  caf::anon_send(st.context.writer, std::vector<event_record>{activity::machine_stalled(
                                        machine.record, silent)});
  tell_pools_inactive(self, id, machine);
}

} // namespace

void detect_silent_machines(self_pointer self, steady_time now) {
  auto& st = self->state;
  // Inactive machines hold no attempts (their pools stalled them), so nothing but the
  // record goes; the hourly pruning deletes its row.
  std::erase_if(st.machines, [&](const auto& entry) {
    if (!is_retired(entry.second, now, st.context.options.machine_retention))
      return false;
    spdlog::info("event=machine_forgotten cluster={} machine={}", st.context.cluster.id,
                 entry.first);
    return true;
  });
  for (auto& [id, machine] : st.machines) {
    if (machine.inactive || now - machine.last_seen < st.context.options.machine_stall)
      continue;
    auto silent =
        std::chrono::duration_cast<std::chrono::seconds>(now - machine.last_seen).count();
    mark_inactive(self, id, machine, silent);
  }
}

void machine_gone(self_pointer self, const std::string& machine_id) {
  auto& st = self->state;
  auto it = st.machines.find(machine_id);
  if (it == st.machines.end())
    return;
  // Seen "now": the next sweep must not count its silence from an old poll's deadline.
  it->second.last_seen = self->clock().now();
  if (!it->second.inactive)
    mark_inactive(self, machine_id, it->second, 0);
  else
    tell_pools_inactive(self, machine_id, it->second);
}

} // namespace diffplane::cluster_internal
