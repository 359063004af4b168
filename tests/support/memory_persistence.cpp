#include "memory_persistence.hpp"

#include "persistence/errors.hpp"
#include "persistence/resource_work_args.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace diffplane::testing {

const job_record* memory_store::job(const std::string& cluster_id,
                                    const std::string& id) const {
  auto it = jobs.find(cluster_id + "/" + id);
  return it == jobs.end() ? nullptr : &it->second;
}

const resource_record* memory_store::resource(const std::string& cluster_id,
                                              const std::string& kind,
                                              const std::string& id) const {
  auto it = resources.find(cluster_id + "/" + kind + "/" + id);
  return it == resources.end() ? nullptr : &it->second;
}

namespace {

/// Like sql::give_newest_work_args: a work job its resource still has queued takes the
/// arguments of the resource as stored (a coalesced inform writes no job row).
void give_newest_work_args(const memory_store& store, std::vector<job_record>& jobs) {
  std::map<std::string, const resource_record*> queued;
  for (const auto& [key, r] : store.resources)
    if (!r.work_job_id.empty() &&
        (r.state == resource_state::scheduled || r.state == resource_state::expired))
      queued[r.cluster_id + "/" + r.work_job_id] = &r;
  for (auto& job : jobs)
    if (auto it = queued.find(job.cluster_id + "/" + job.id);
        it != queued.end() && job.target_fn == "work" &&
        job.service == "resources." + it->second->kind)
      job.target_args = persistence::work_args(*it->second);
}

caf::error unavailable() {
  return make_error(error_code::unavailable, "the database is unavailable");
}

void apply_state_write(memory_store& store, const job_state_write& w) {
  store.state_writes.push_back(w);
  auto it = store.jobs.find(w.cluster_id + "/" + w.id);
  if (it != store.jobs.end() && it->second.revision < w.revision)
    apply(it->second, w);
}

/// The next page of the cluster's load, from the copy taken when the cluster was loaded;
/// the count of the whole load comes from the second page on, as from the real loader.
caf::expected<live_jobs_page> page_of(memory_store& store,
                                      const live_jobs_page_request& request) {
  if (store.fail_next_page) {
    store.fail_next_page = false;
    store.loads.erase(request.cluster_id);
    return make_error(error_code::unavailable, "the live jobs could not be read");
  }
  auto it = store.loads.find(request.cluster_id);
  if (it == store.loads.end())
    return make_error(error_code::unavailable, "no load is under way");
  auto& load = it->second;
  live_jobs_page page;
  while (load.next < load.jobs.size() &&
         page.jobs.size() < static_cast<std::size_t>(request.limit))
    page.jobs.push_back(load.jobs[load.next++]);
  if (load.pages++ > 0)
    page.total = static_cast<std::int64_t>(load.jobs.size());
  if (page.jobs.size() < static_cast<std::size_t>(request.limit))
    store.loads.erase(it);
  return page;
}

/// Commits a resource write into `store` (none: committed), refusing what Postgres would.
caf::error commit_resource_write(memory_store& store, const resource_write& write) {
  // Like Postgres's INSERT ... ON CONFLICT, which fails the whole transaction when
  // one statement writes a row twice.
  std::set<std::string> kinds;
  for (auto& k : write.kinds)
    if (!kinds.insert(k.kind).second)
      return caf::make_error(caf::sec::invalid_argument,
                             "resource kind " + k.kind + " written twice");
  for (auto& job : write.jobs)
    store.jobs.emplace(job.cluster_id + "/" + job.id, job);
  for (auto& w : write.job_states)
    apply_state_write(store, w);
  for (auto& k : write.kinds) {
    auto& slot = store.resource_kinds[k.cluster_id + "/" + k.kind];
    // A settings change (no time) keeps the informer's last run, as in SQL.
    auto last_informed_at = slot.last_informed_at;
    slot = k;
    if (k.last_informed_at == 0)
      slot.last_informed_at = last_informed_at;
  }
  for (auto& n : write.namespaces)
    store.resource_namespaces[n.cluster_id + "/" + n.name] = n;
  for (auto& k : write.removed)
    store.resources.erase(k.cluster_id + "/" + k.kind + "/" + k.id);
  for (auto& r : write.resources) {
    auto& slot = store.resources[r.cluster_id + "/" + r.kind + "/" + r.id];
    if (slot.revision < r.revision)
      slot = r;
  }
  store.resource_events.insert(store.resource_events.end(), write.events.begin(),
                               write.events.end());
  return {};
}

/// Answers every held write, from the actor's own context as a real flush would.
void answer_held(memory_store& store) {
  auto pages = std::move(store.held_pages);
  store.held_pages.clear();
  for (auto& h : pages) {
    auto page = page_of(store, h.request);
    if (page)
      h.reply.deliver(std::move(*page));
    else
      h.reply.deliver(page.error());
  }
  auto inserts = std::move(store.held_inserts);
  store.held_inserts.clear();
  for (auto& h : inserts) {
    if (store.commit_held)
      h.reply.deliver(
          store.jobs.emplace(h.row.cluster_id + "/" + h.row.id, h.row).second);
    else
      h.reply.deliver(unavailable());
  }
  auto resource_writes = std::move(store.held_resource_writes);
  store.held_resource_writes.clear();
  for (auto& h : resource_writes) {
    if (!store.commit_held)
      h.reply.deliver(unavailable());
    else if (auto err = commit_resource_write(store, h.write))
      h.reply.deliver(err);
    else
      h.reply.deliver(done_atom::value);
  }
  auto held = std::move(store.held_writes);
  store.held_writes.clear();
  for (auto& h : held) {
    if (store.commit_held) {
      apply_state_write(store, h.write);
      h.reply.deliver(done_atom::value);
    } else {
      h.reply.deliver(unavailable());
    }
  }
}

/// The lease epochs one persistence actor was told, and by whom.
struct writer_fences {
  std::map<std::string, std::int64_t> epochs;
  caf::actor listener;
};

/// Whether a job write of `cluster_id` must fail because the node's lease epoch is
/// stale (memory_store::fence_table); tells the node as the real writer does.
bool fenced(memory_store& store, writer_fences& fences, const std::string& cluster_id) {
  if (!store.fence_table)
    return false;
  auto told = fences.epochs.find(cluster_id);
  auto lease = store.fence_table->leases.find(cluster_id);
  auto epoch = told == fences.epochs.end() ? std::int64_t{-1} : told->second;
  if (lease != store.fence_table->leases.end() && lease->second.epoch == epoch)
    return false;
  ++store.fenced_writes;
  if (fences.listener && epoch > 0)
    caf::anon_send(fences.listener, fenced_atom::value, cluster_id, epoch);
  return true;
}

persistence_actor::behavior_type memory_behavior(persistence_actor::pointer self,
                                                 std::shared_ptr<memory_store> store) {
  auto fences = std::make_shared<writer_fences>();
  return {
      [store](cluster_record& row) -> caf::result<done_atom> {
        if (store->failing)
          return unavailable();
        store->clusters.emplace(row.id, row);
        return done_atom::value;
      },
      [store](cluster_settings_write& w) -> caf::result<done_atom> {
        if (store->failing)
          return unavailable();
        store->clusters[w.cluster_id].predictive_retries_enabled =
            w.predictive_retries_enabled;
        return done_atom::value;
      },
      [self, store, fences](job_record& row) -> caf::result<bool> {
        ++store->job_inserts;
        if (store->failing || fenced(*store, *fences, row.cluster_id))
          return unavailable();
        if (store->hold_job_inserts) {
          auto reply = self->make_response_promise<bool>();
          store->held_inserts.push_back(memory_store::held_insert{row, reply});
          return reply;
        }
        return store->jobs.emplace(row.cluster_id + "/" + row.id, row).second;
      },
      [self, store, fences](job_state_write& w) -> caf::result<done_atom> {
        if (store->failing || fenced(*store, *fences, w.cluster_id))
          return unavailable();
        if (store->hold_state_writes) {
          auto reply = self->make_response_promise<done_atom>();
          store->held_writes.push_back(memory_store::held_write{w, reply});
          return reply;
        }
        apply_state_write(*store, w);
        return done_atom::value;
      },
      [store](live_jobs_move& move) -> caf::result<done_atom> {
        if (store->failing)
          return unavailable();
        auto& before = store->live_jobs_before[move.cluster_id];
        before = std::max(before, move.created_before);
        return done_atom::value;
      },
      [store](machine_record& row) -> caf::result<done_atom> {
        store->machines[row.cluster_id + "/" + row.id] = row;
        return done_atom::value;
      },
      [store](service_record& row) -> caf::result<done_atom> {
        store->services[row.cluster_id + "/" + row.name] = row;
        return done_atom::value;
      },
      [store](std::vector<event_record>& rows) -> caf::result<done_atom> {
        store->events.insert(store->events.end(), rows.begin(), rows.end());
        return done_atom::value;
      },
      [store](std::vector<client_event_record>& rows) -> caf::result<done_atom> {
        store->client_events.insert(store->client_events.end(), rows.begin(), rows.end());
        return done_atom::value;
      },
      [self, store](resource_write& write) -> caf::result<done_atom> {
        ++store->resource_writes;
        if (store->failing)
          return unavailable();
        if (store->hold_resource_writes) {
          auto reply = self->make_response_promise<done_atom>();
          store->held_resource_writes.push_back(
              memory_store::held_resource_write{std::move(write), reply});
          return reply;
        }
        if (auto err = commit_resource_write(*store, write))
          return err;
        return done_atom::value;
      },
      [store](load_resources_atom, const std::string& cluster_id) {
        resources_snapshot snapshot;
        for (const auto& [key, k] : store->resource_kinds)
          if (k.cluster_id == cluster_id)
            snapshot.kinds.push_back(k);
        for (const auto& [key, n] : store->resource_namespaces)
          if (n.cluster_id == cluster_id)
            snapshot.namespaces.push_back(n);
        auto& loaded = snapshot.resources;
        for (const auto& [key, r] : store->resources) {
          if (r.cluster_id != cluster_id)
            continue;
          loaded_resource l{r, false, job_status::pending, result_kind::none, {}};
          if (const auto* job = store->job(cluster_id, r.work_job_id)) {
            l.job_found = true;
            l.job_status_value = job->status;
            l.job_result_type = job->result_type;
            l.job_result = job->result;
          }
          loaded.push_back(std::move(l));
        }
        for (const auto& e : store->resource_events)
          if (e.cluster_id == cluster_id)
            snapshot.last_event_seq = std::max(snapshot.last_event_seq, e.seq);
        return snapshot;
      },
      [store](const resource_events_request& request) {
        ++store->resource_event_reads;
        std::vector<resource_event_record> events;
        for (const auto& e : store->resource_events)
          if (e.cluster_id == request.cluster_id && e.seq > request.after &&
              e.seq <= request.up_to &&
              events.size() < static_cast<std::size_t>(request.limit))
            events.push_back(e);
        return events;
      },
      [store](const resource_query& query) {
        resource_page page;
        for (const auto& [key, r] : store->resources)
          if (r.cluster_id == query.cluster_id &&
              (query.kind.empty() || r.kind == query.kind) &&
              (query.id.empty() || r.id == query.id) &&
              (query.state.empty() || to_string(r.state) == query.state) &&
              (query.namespace_name.empty() || r.namespace_name == query.namespace_name))
            page.items.push_back(r);
        return page;
      },
      [store](const resource_counts_query& query) {
        std::map<std::string, std::int64_t> counts;
        for (const auto& [key, r] : store->resources)
          if (r.cluster_id == query.cluster_id)
            ++counts[std::string{to_string(r.state)}];
        std::vector<resource_count> out;
        for (auto& [state, count] : counts)
          out.push_back(resource_count{state, count});
        return out;
      },
      [store](load_clusters_atom) {
        std::vector<cluster_record> result;
        for (const auto& [id, c] : store->clusters)
          result.push_back(c);
        return result;
      },
      [store](load_cluster_atom, const std::string& cluster_id, timestamp_ms since) {
        cluster_snapshot snapshot;
        if (auto it = store->clusters.find(cluster_id); it != store->clusters.end())
          snapshot.cluster = it->second;
        if (auto it = store->live_jobs_before.find(cluster_id);
            it != store->live_jobs_before.end())
          snapshot.live_jobs_before = it->second;
        for (const auto& [key, s] : store->services)
          if (s.cluster_id == cluster_id)
            snapshot.services.push_back(s);
        for (const auto& [key, m] : store->machines)
          if (m.cluster_id == cluster_id)
            snapshot.machines.push_back(m);
        auto& load = store->loads[cluster_id] = memory_store::live_jobs_load{};
        for (const auto& [key, j] : store->jobs) {
          if (j.cluster_id != cluster_id)
            continue;
          snapshot.load_before = std::max(snapshot.load_before, j.created_at + 1);
          if (!is_terminal(j.status))
            load.jobs.push_back(j);
          if (is_terminal(j.status) && !j.cache_key.empty() &&
              j.result_type == result_kind::resolution && j.resulted_at > since)
            snapshot.cache_entries.push_back(cache_entry_record{
                j.service, j.target_fn, j.cache_key, j.id, j.resulted_at});
        }
        std::sort(load.jobs.begin(), load.jobs.end(), [](const auto& a, const auto& b) {
          return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
        });
        give_newest_work_args(*store, load.jobs);
        return snapshot;
      },
      [self,
       store](const live_jobs_page_request& request) -> caf::result<live_jobs_page> {
        ++store->live_job_pages;
        if (!store->hold_live_job_pages)
          return page_of(*store, request);
        auto reply = self->make_response_promise<live_jobs_page>();
        store->held_pages.push_back(memory_store::held_page{request, reply});
        return reply;
      },
      [store](fetch_statuses_atom, const std::string& cluster_id,
              const std::vector<std::string>& ids) {
        std::vector<job_status_row> rows;
        for (const auto& id : ids)
          if (const auto* j = store->job(cluster_id, id))
            rows.push_back(job_status_row{j->id, j->status, j->result_type, j->result});
        return rows;
      },
      [store](latest_jobs_atom, const std::string& cluster_id, const std::string& service,
              std::int32_t limit) {
        std::vector<job_summary> rows;
        for (const auto& [key, j] : store->jobs)
          if (j.cluster_id == cluster_id && (service.empty() || j.service == service))
            rows.push_back(job_summary{j.id, j.target_fn, j.service, j.status,
                                       j.result_type, j.created_at,
                                       j.function_execution_time_ms});
        std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
          return a.created_at > b.created_at;
        });
        if (rows.size() > static_cast<std::size_t>(limit))
          rows.resize(static_cast<std::size_t>(limit));
        return rows;
      },
      [store](fetch_job_atom, const std::string& cluster_id,
              const std::string& id) -> caf::result<std::vector<job_record>> {
        if (store->failing_reads)
          return unavailable();
        std::vector<job_record> rows;
        if (const auto* j = store->job(cluster_id, id))
          rows.push_back(*j);
        give_newest_work_args(*store, rows);
        return rows;
      },
      [store](const activity_query& query) {
        // Stored events only: deriving entries from job rows is SQL's job (tested there).
        std::vector<event_record> entries;
        for (const auto& e : store->events)
          if (e.cluster_id == query.cluster_id &&
              (query.job_id.empty() || e.job_id == query.job_id))
            entries.push_back(e);
        return entries;
      },
      [](const metrics_query&) { return function_metrics{}; },
      [store](const cached_resolution_query& query) {
        std::vector<cache_entry_record> found;
        for (const auto& [key, j] : store->jobs)
          if (j.cluster_id == query.cluster_id && j.service == query.service &&
              j.target_fn == query.target_fn && j.cache_key == query.cache_key &&
              j.result_type == result_kind::resolution && j.resulted_at > query.since &&
              (found.empty() || j.resulted_at > found.front().resulted_at))
            found = {cache_entry_record{j.service, j.target_fn, j.cache_key, j.id,
                                        j.resulted_at}};
        return found;
      },
      [store](prune_atom, std::int32_t, std::int32_t) {
        auto before = static_cast<std::int64_t>(store->events.size());
        store->events.clear();
        return before;
      },
      [self, fences](lease_epoch_atom, const std::string& cluster_id,
                     std::int64_t epoch) {
        if (epoch == 0)
          fences->epochs.erase(cluster_id);
        else
          fences->epochs[cluster_id] = epoch;
        fences->listener = caf::actor_cast<caf::actor>(self->current_sender());
      },
      [store](ping_atom) -> caf::result<done_atom> {
        if (store->failing)
          return unavailable();
        return done_atom::value;
      },
      [store](flush_atom) { answer_held(*store); },
      [](held_due_atom) {},
  };
}

} // namespace

persistence_actor spawn_memory_persistence(caf::actor_system& system,
                                           std::shared_ptr<memory_store> store) {
  return system.spawn(memory_behavior, std::move(store));
}

} // namespace diffplane::testing
