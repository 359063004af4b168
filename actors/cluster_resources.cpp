#include "actors/cluster_state.hpp"

#include "actors/resource_informers.hpp"

#include "metrics/catalog.hpp"

#include <algorithm>

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
  for (auto& a : write.args)
    a.cluster_id = cluster_id;
  auto promise = self->make_response_promise<done_atom>();
  auto jobs = write.jobs;
  self->request(st.context.writer, caf::infinite, std::move(write))
      .then(
          [self, promise, jobs = std::move(jobs)](done_atom) mutable {
            for (auto& job : jobs) {
              metrics::jobs().created.add();
              admit_job(self, std::move(job));
            }
            promise.deliver(done_atom::value);
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

caf::result<bool> replace_queued_args(self_pointer self, const std::string& job_id,
                                      std::string& args) {
  auto& st = self->state;
  auto it = st.jobs.find(job_id);
  // A job not loaded yet: answered false, the resources actor would queue a second run.
  if (it == st.jobs.end() && st.loading) {
    auto promise = self->make_response_promise<bool>();
    hold_while_loading(
        self, [self, job_id, args, promise](const caf::error& err) mutable {
          if (err)
            promise.deliver(err);
          else
            promise.delegate(caf::actor_cast<cluster_actor>(self),
                             replace_args_atom::value, job_id, std::move(args));
        });
    return promise;
  }
  if (it == st.jobs.end() || it->second.status != job_status::pending ||
      st.services.count(it->second.pool) == 0)
    return false;
  return self->delegate(pool_for_work(self, it->second.pool), replace_args_atom::value,
                        job_id, std::move(args));
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
