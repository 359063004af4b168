#include "actors/cluster_state.hpp"

#include "persistence/errors.hpp"

#include <algorithm>

namespace diffplane::cluster_internal {

namespace {

/// Answers `result` once its `jobs` hold the newest jobs (of one service, or all when
/// `service` is empty), read from Postgres.
template <class Result>
caf::result<Result> with_latest_jobs(self_pointer self, const std::string& service,
                                     std::int32_t limit, Result result) {
  auto& st = self->state;
  auto promise = self->make_response_promise<Result>();
  self->request(st.context.reader, caf::infinite, latest_jobs_atom::value,
                st.context.cluster.id, service, limit)
      .then(
          [promise, result](std::vector<job_summary>& jobs) mutable {
            result.jobs = std::move(jobs);
            promise.deliver(std::move(result));
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

} // namespace

caf::result<cluster_details> details_of(self_pointer self) {
  auto& st = self->state;
  cluster_details result;
  result.cluster = st.context.cluster;
  for (const auto& [id, machine] : st.machines)
    result.machines.push_back(machine.record);
  std::sort(result.machines.begin(), result.machines.end(),
            [](const auto& a, const auto& b) { return a.last_ping_at > b.last_ping_at; });
  // Sorted by name, as `definitions` is.
  for (const auto& [name, functions] : st.definitions)
    result.definitions.push_back(
        service_record{st.context.cluster.id, name, functions, 0});
  return with_latest_jobs(self, {}, 100, std::move(result));
}

caf::result<service_details> service_details_of(self_pointer self,
                                                const service_details_request& request) {
  auto& st = self->state;
  service_details result;
  if (auto it = st.definitions.find(request.service); it != st.definitions.end()) {
    result.has_definition = true;
    result.definition =
        service_record{st.context.cluster.id, request.service, it->second, 0};
  }
  return with_latest_jobs(self, request.service, request.limit, std::move(result));
}

cluster_settings settings_of(self_pointer self) {
  const auto& c = self->state.context.cluster;
  return cluster_settings{c.predictive_retries_enabled, c.cloud_enabled};
}

caf::result<done_atom> change_settings(self_pointer self,
                                       const cluster_settings& settings) {
  auto& st = self->state;
  auto promise = self->make_response_promise<done_atom>();
  self->request(st.context.writer, caf::infinite,
                cluster_settings_write{st.context.cluster.id,
                                       settings.predictive_retries_enabled})
      .then(
          [self, promise,
           enabled = settings.predictive_retries_enabled](done_atom) mutable {
            self->state.context.cluster.predictive_retries_enabled = enabled;
            promise.deliver(done_atom::value);
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

caf::result<job_detail> job_detail_of(self_pointer self, const std::string& id) {
  auto& st = self->state;
  auto promise = self->make_response_promise<job_detail>();
  auto reader = st.context.reader;
  auto cluster_id = st.context.cluster.id;
  self->request(reader, caf::infinite, fetch_job_atom::value, cluster_id, id)
      .then(
          [self, promise, reader, cluster_id, id](std::vector<job_record>& rows) mutable {
            if (rows.empty()) {
              promise.deliver(
                  make_error(error_code::not_found, "job " + id + " not found"));
              return;
            }
            auto job = std::move(rows.front());
            self->request(reader, caf::infinite, activity_query{cluster_id, id, {}, 1000})
                .then(
                    [promise, job](std::vector<event_record>& entries) mutable {
                      promise.deliver(job_detail{std::move(job), std::move(entries)});
                    },
                    [promise](caf::error& err) mutable { promise.deliver(err); });
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

} // namespace diffplane::cluster_internal
