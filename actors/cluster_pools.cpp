#include "actors/cluster_state.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

// The pools of a cluster: spawned on a service's first use, retired when idle and empty.
//
// Retirement is a handshake, not a decision the cluster takes alone. The cluster knows
// which of its jobs are live and when it last sent a pool work, but not which polls are
// parked in the pool: only the pool can say it is empty. So at a sweep the cluster asks
// a pool that holds no live job of its index and has been idle for the retention
// (`retire_atom`); the pool agrees only when it has no pending job, no running attempt
// and no parked poll. Meanwhile the pool keeps serving: the cluster goes on routing
// creates, polls and results to it, counting what it sends (`traffic`). A pool only
// hears from its cluster (and from its attempts and timers, and an agreeing pool has no
// attempt), and a cluster's messages reach it in order, so an agreement with no traffic
// since the question means the pool is still empty when the cluster takes it: the
// cluster then forgets it and tells it to stop. An agreement with traffic since is void
// and the pool stays, holding what was sent, so nothing that raced the question is lost
// or sent to a pool about to stop; the next request for a retired service spawns a fresh
// pool. Pools are known by ids that are never reused, so a lingering job entry or a
// machine's list never names another service's pool.

namespace diffplane::cluster_internal {

namespace {

/// Remembers that `name`'s definition now belongs to no pool, forgetting the oldest such
/// definitions beyond `max_services_per_cluster`: the definitions of retired services
/// must not grow the cluster without end either (Postgres keeps them all).
void keep_retired_definition(cluster_state& st, const std::string& name) {
  if (st.definitions.count(name) == 0)
    return;
  st.retired_definitions.push_back(name);
  while (st.retired_definitions.size() > st.context.options.max_services_per_cluster) {
    auto oldest = std::move(st.retired_definitions.front());
    st.retired_definitions.pop_front();
    spdlog::info("event=definition_forgotten cluster={} service={}",
                 st.context.cluster.id, oldest);
    st.definitions.erase(oldest);
  }
}

/// Forgets the pool `id` once it agreed to retire with no traffic since the question.
void forget_pool(self_pointer self, pool_id id) {
  auto& st = self->state;
  auto it = st.services.find(id);
  auto name = std::move(it->second.name);
  // The pool is linked to the cluster; it stops with the normal exit reason, which
  // the cluster ignores.
  self->send(it->second.pool, stop_atom::value);
  st.services.erase(it);
  st.service_index.erase(name);
  for (auto& [machine_id, machine] : st.machines)
    std::erase(machine.pools, id);
  keep_retired_definition(st, name);
  spdlog::info("event=pool_retired cluster={} service={}", st.context.cluster.id, name);
}

void on_retire_answer(self_pointer self, pool_id id, std::uint64_t traffic, bool agreed) {
  auto& st = self->state;
  auto it = st.services.find(id);
  if (it == st.services.end())
    return;
  auto& service = it->second;
  service.retiring = false;
  if (agreed && service.traffic == traffic && service.live_jobs == 0) {
    forget_pool(self, id);
    return;
  }
  // Refused (a poll is parked) or overtaken by new work: ask again only after another
  // retention, not at every sweep.
  if (!agreed)
    service.last_active = self->clock().now();
}

} // namespace

pool_id pool_of(self_pointer self, const std::string& service) {
  auto& st = self->state;
  if (auto it = st.service_index.find(service); it != st.service_index.end())
    return it->second;
  wake_sweeps(self);
  auto id = st.next_pool_id++;
  auto pool =
      spawn_pool(self, pool_context{st.context.cluster.id, service, st.context.writer,
                                    self, st.context.options, st.parked, st.refusals});
  st.services.emplace(id, service_state{service, pool, self->clock().now()});
  st.service_index.emplace(service, id);
  if (st.definitions.count(service) > 0)
    std::erase(st.retired_definitions, service);
  return id;
}

pool_actor& pool_for_work(self_pointer self, pool_id id) {
  auto& service = self->state.services.at(id);
  ++service.traffic;
  service.last_active = self->clock().now();
  return service.pool;
}

void note_pool_activity(self_pointer self, pool_id id) {
  if (auto it = self->state.services.find(id); it != self->state.services.end())
    it->second.last_active = self->clock().now();
}

void count_live_job(cluster_state& st, pool_id id, int delta) {
  if (auto it = st.services.find(id); it != st.services.end())
    it->second.live_jobs = static_cast<std::size_t>(
        static_cast<std::ptrdiff_t>(it->second.live_jobs) + delta);
}

void retire_idle_pools(self_pointer self, steady_time now) {
  auto& st = self->state;
  auto retention = st.context.options.pool_retention;
  if (retention.count() == 0)
    return;
  for (auto& [id, service] : st.services) {
    if (service.retiring || service.live_jobs > 0 ||
        now - service.last_active < retention)
      continue;
    service.retiring = true;
    self->request(service.pool, caf::infinite, retire_atom::value)
        .then([self, id = id, traffic = service.traffic](
                  bool agreed) { on_retire_answer(self, id, traffic, agreed); },
              [self, id = id](caf::error&) {
                if (auto it = self->state.services.find(id);
                    it != self->state.services.end())
                  it->second.retiring = false;
              });
  }
}

} // namespace diffplane::cluster_internal
