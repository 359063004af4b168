#include "actors/cluster_state.hpp"

#include "actors/activity.hpp"
#include "actors/job_lifecycle.hpp"
#include "actors/resource_informers.hpp"

#include "metrics/catalog.hpp"

#include <algorithm>
#include <memory>
#include <unordered_map>

// The cluster's side of resource controllers: it spawns the resources actor, commits its
// writes (stamping the work jobs like its own creates, so a restart finds them), admits
// the jobs to their pools and forwards what becomes of them.
namespace diffplane::cluster_internal {

void start_resources(self_pointer self) {
  auto& st = self->state;
  resources_context context;
  context.cluster_id = st.context.cluster.id;
  context.host = caf::actor_cast<resource_host>(self);
  context.writer = st.context.writer;
  context.reader = st.context.reader;
  context.parked = st.parked;
  context.options = st.context.options.resources;
  context.wall_clock = st.context.options.wall_clock;
  st.resources = spawn_resources(self, std::move(context));
}

namespace {

using done_promise = caf::typed_response_promise<done_atom>;

/// Puts jobs withdrawn for a write that did not commit back in their queues: their
/// resources are still there, and so are their rows, pending.
void requeue_withdrawn(self_pointer self, std::vector<job_record> jobs) {
  auto& st = self->state;
  for (auto& job : jobs) {
    auto* entry = st.jobs.find(job.id);
    if (entry == nullptr || st.services.count(entry->pool) == 0)
      continue;
    self->send(pool_for_work(self, entry->pool), enqueue_atom::value, std::move(job));
  }
}

/// The withdrawn jobs' ends are durable: they finish like any job (waiters, the index,
/// and the resources actor, where a removed resource's job frees its namespace's slot).
void finish_withdrawn(self_pointer self, std::vector<job_record>& ended) {
  if (ended.empty())
    return;
  std::vector<event_record> events;
  for (auto& job : ended) {
    metrics::jobs().failed.add();
    events.push_back(
        activity::job_failed(job, "withdrawn from its queue: its resource was removed"));
    job_finished finished{lifecycle::status_row_of(job), job.service, job.target_fn,
                          job.cache_key, job.resulted_at};
    on_job_finished(self, finished);
  }
  caf::anon_send(self->state.context.writer, std::move(events));
}

/// Commits `write` with the ends of the `withdrawn` jobs, then admits its work jobs.
void send_resource_write(self_pointer self, resource_write write,
                         std::vector<job_record> withdrawn, done_promise promise) {
  auto& st = self->state;
  auto now = wall_now(self);
  std::vector<job_record> ended;
  for (const auto& job : withdrawn) {
    ended.push_back(job);
    lifecycle::withdraw(ended.back(), now);
    write.job_states.push_back(lifecycle::state_of(ended.back()));
  }
  auto jobs = write.jobs;
  self->request(st.context.writer, caf::infinite, std::move(write))
      .then(
          [self, promise, jobs = std::move(jobs),
           ended = std::move(ended)](done_atom) mutable {
            for (auto& job : jobs) {
              metrics::jobs().created.add();
              admit_job(self, std::move(job));
            }
            finish_withdrawn(self, ended);
            promise.deliver(done_atom::value);
          },
          [self, promise, withdrawn = std::move(withdrawn)](caf::error& err) mutable {
            requeue_withdrawn(self, std::move(withdrawn));
            promise.deliver(err);
          });
}

/// Whether `write` withdraws a job that the cluster's load has not brought yet.
bool withdraws_unloaded_job(const cluster_state& st, const resource_write& write) {
  return st.loading &&
         std::any_of(write.withdraw.begin(), write.withdraw.end(),
                     [&](const std::string& id) { return !st.jobs.contains(id); });
}

/// Takes the jobs `write.withdraw` names out of their pools' queues, then commits the
/// write with their ends. A job no longer queued (dispatched, or never admitted) is
/// left to run: the resources actor ignores its result.
void withdraw_then_commit(self_pointer self, resource_write write, done_promise promise) {
  auto& st = self->state;
  // A job still to come in a page of the load could not be withdrawn: the removal would
  // commit without its end, and the page would then queue it for a controller (also
  // after a restart, its row still pending). The write waits for the end of the load and
  // withdraws it then, in the same commit as the removal, as for a job already loaded.
  if (withdraws_unloaded_job(st, write)) {
    hold_while_loading(self, [self, write = std::move(write),
                              promise](const caf::error& err) mutable {
      if (err)
        promise.deliver(err);
      else
        withdraw_then_commit(self, std::move(write), std::move(promise));
    });
    return;
  }
  std::unordered_map<pool_id, std::vector<std::string>> by_pool;
  for (const auto& id : write.withdraw)
    if (auto* entry = st.jobs.find(id); entry != nullptr &&
                                        entry->status == job_status::pending &&
                                        st.services.count(entry->pool) > 0)
      by_pool[entry->pool].push_back(id);
  write.withdraw.clear();
  if (by_pool.empty()) {
    send_resource_write(self, std::move(write), {}, std::move(promise));
    return;
  }
  struct gathering {
    resource_write write;
    std::vector<job_record> withdrawn;
    std::size_t waiting = 0;
  };
  auto g = std::make_shared<gathering>();
  g->write = std::move(write);
  g->waiting = by_pool.size();
  auto answered = [self, g, promise](std::vector<job_record> jobs) mutable {
    for (auto& job : jobs)
      g->withdrawn.push_back(std::move(job));
    if (--g->waiting == 0)
      send_resource_write(self, std::move(g->write), std::move(g->withdrawn), promise);
  };
  for (auto& [pool, ids] : by_pool)
    self->request(pool_for_work(self, pool), caf::infinite, withdraw_atom::value,
                  std::move(ids))
        .then([answered](
                  std::vector<job_record>& jobs) mutable { answered(std::move(jobs)); },
              [answered](caf::error&) mutable { answered({}); });
}

} // namespace

caf::result<done_atom> commit_resources(self_pointer self, resource_write& write) {
  auto& st = self->state;
  const auto& cluster_id = st.context.cluster.id;
  write.cluster_id = cluster_id;
  auto created_at = new_job_created_at(self);
  for (auto& job : write.jobs) {
    job.cluster_id = cluster_id;
    job.created_at = created_at;
  }
  if (!write.jobs.empty())
    st.newest_created_at = std::max(st.newest_created_at, created_at);
  for (auto& r : write.resources)
    r.cluster_id = cluster_id;
  auto promise = self->make_response_promise<done_atom>();
  withdraw_then_commit(self, std::move(write), promise);
  return promise;
}

caf::result<std::vector<std::string>> replace_queued_args(self_pointer self,
                                                          std::vector<std::string>& job_ids,
                                                          std::vector<std::string>& args) {
  auto& st = self->state;
  // Jobs not loaded yet: asked again at the end of the load (answered as not replaced,
  // the resources actor would queue a second run).
  if (st.loading && std::any_of(job_ids.begin(), job_ids.end(),
                                [&](const auto& id) { return !st.jobs.contains(id); })) {
    auto promise = self->make_response_promise<std::vector<std::string>>();
    hold_while_loading(self, [self, job_ids, args, promise](const caf::error& err) mutable {
      if (err)
        promise.deliver(err);
      else
        promise.delegate(caf::actor_cast<cluster_actor>(self), replace_args_atom::value,
                         std::move(job_ids), std::move(args));
    });
    return promise;
  }
  std::vector<std::string> missed;
  std::unordered_map<pool_id, std::pair<std::vector<std::string>, std::vector<std::string>>>
      by_pool;
  for (std::size_t i = 0; i < job_ids.size() && i < args.size(); ++i) {
    auto* entry = st.jobs.find(job_ids[i]);
    if (entry == nullptr || entry->status != job_status::pending ||
        st.services.count(entry->pool) == 0) {
      missed.push_back(std::move(job_ids[i]));
      continue;
    }
    // Counted as replaced from now on. A job its pool dispatched meanwhile keeps its old
    // arguments, and counts the new ones' size until it finishes: off by their
    // difference for a while, yet its finish takes back what its entry counted.
    st.held.recount(entry->bytes, args[i].size());
    auto& [ids, values] = by_pool[entry->pool];
    ids.push_back(std::move(job_ids[i]));
    values.push_back(std::move(args[i]));
  }
  if (by_pool.empty())
    return missed;
  // One request per pool; the answer gathers what none of them replaced.
  struct gathering {
    std::vector<std::string> missed;
    std::size_t waiting = 0;
  };
  auto g = std::make_shared<gathering>();
  g->missed = std::move(missed);
  g->waiting = by_pool.size();
  auto promise = self->make_response_promise<std::vector<std::string>>();
  auto answered = [g, promise](std::vector<std::string> ids) mutable {
    for (auto& id : ids)
      g->missed.push_back(std::move(id));
    if (--g->waiting == 0)
      promise.deliver(std::move(g->missed));
  };
  for (auto& [pool, part] : by_pool) {
    auto asked = part.first;
    self->request(pool_for_work(self, pool), caf::infinite, replace_args_atom::value,
                  std::move(part.first), std::move(part.second))
        .then([answered](std::vector<std::string>& ids) mutable { answered(std::move(ids)); },
              [answered, asked = std::move(asked)](caf::error&) mutable {
                answered(std::move(asked));
              });
  }
  return promise;
}

void forward_live_informer_runs(self_pointer self, std::vector<job_record> runs) {
  self->send(self->state.resources, informer_runs_atom::value, std::move(runs));
}

bool is_informer_run(const job_record& job) {
  return job.target_fn == resources::inform_function &&
         resources::is_controller_service(job.service);
}

void forward_finished_work(self_pointer self, const job_finished& finished) {
  if (resources::is_controller_service(finished.service))
    self->send(self->state.resources, finished);
}

void forward_work_change(self_pointer self, const job_status_changed& change,
                         pool_id pool) {
  auto& st = self->state;
  auto it = st.services.find(pool);
  if (it != st.services.end() && resources::is_controller_service(it->second.name))
    self->send(st.resources, change);
}

caf::result<std::vector<inform_result>>
inform_resources(self_pointer self, resource_inform_request& request) {
  return self->delegate(self->state.resources, std::move(request));
}

caf::result<resource_events_page> resource_events(self_pointer self,
                                                  resource_events_request& request) {
  request.cluster_id = self->state.context.cluster.id;
  return self->delegate(self->state.resources, std::move(request));
}

caf::result<resource_page> query_resources(self_pointer self, resource_query& query) {
  query.cluster_id = self->state.context.cluster.id;
  return self->delegate(self->state.context.reader, std::move(query));
}

caf::result<std::vector<resource_count>> count_resources(self_pointer self,
                                                         resource_counts_query& query) {
  query.cluster_id = self->state.context.cluster.id;
  return self->delegate(self->state.context.reader, std::move(query));
}

} // namespace diffplane::cluster_internal
