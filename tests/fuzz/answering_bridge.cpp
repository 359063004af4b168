#include "answering_bridge.hpp"

namespace diffplane::fuzz {

using gateway::domain_error;
using gateway::outcome;

namespace {

/// Ids that start with "missing" are unknown, so the error paths run too.
bool unknown(const std::string& id) {
  return id.rfind("missing", 0) == 0;
}

template <class T> outcome<T> not_found(const std::string& id) {
  return outcome<T>::failure(domain_error{error_code::not_found, "no such id " + id});
}

cluster_record cluster_of(std::string id, std::string description) {
  return cluster_record{
      std::move(id), "sk_fuzz_api_secret", std::move(description), 1700000000000, false,
      false};
}

job_summary summary_of(const std::string& id, const std::string& service) {
  return job_summary{
      id, "fn", service, job_status::success, result_kind::resolution, 1700000000000, 12};
}

event_record event_of(const std::string& cluster_id, const std::string& job_id,
                      const std::string& deployment_id) {
  return event_record{cluster_id,         "jobReceived", job_id,
                      "machine-1",        deployment_id, "svc",
                      R"({"attempt":1})", 1700000000000};
}

} // namespace

void answering_bridge::authenticate(const std::string& secret,
                                    callback<gateway::cluster_ref> done) {
  if (unknown(secret))
    return done(outcome<gateway::cluster_ref>::failure(
        domain_error{error_code::unauthorized, "unknown secret"}));
  done(outcome<gateway::cluster_ref>::success(gateway::cluster_ref{}));
}

void answering_bridge::create_cluster(std::string description,
                                      callback<cluster_record> done) {
  done(outcome<cluster_record>::success(cluster_of("cluster-1", std::move(description))));
}

void answering_bridge::list_clusters(callback<std::vector<cluster_record>> done) {
  done(outcome<std::vector<cluster_record>>::success({cluster_of("cluster-1", "")}));
}

void answering_bridge::cluster_details(std::string cluster_id,
                                       callback<diffplane::cluster_details> done) {
  if (unknown(cluster_id))
    return done(not_found<diffplane::cluster_details>(cluster_id));
  diffplane::cluster_details details;
  details.cluster = cluster_of(cluster_id, "described");
  details.machines.push_back(
      machine_record{cluster_id, "machine-1", "svc", "127.0.0.1", "", 1700000000000});
  details.jobs.push_back(summary_of("job-1", "svc"));
  details.definitions.push_back(service_record{cluster_id, "svc", {"fn"}});
  done(outcome<diffplane::cluster_details>::success(std::move(details)));
}

void answering_bridge::service_details(std::string cluster_id,
                                       service_details_request request,
                                       callback<diffplane::service_details> done) {
  if (unknown(cluster_id))
    return done(not_found<diffplane::service_details>(cluster_id));
  diffplane::service_details details;
  details.jobs.push_back(summary_of("job-1", request.service));
  details.has_definition = true;
  details.definition = service_record{cluster_id, request.service, {"fn"}};
  done(outcome<diffplane::service_details>::success(std::move(details)));
}

void answering_bridge::settings(std::string cluster_id, callback<cluster_settings> done) {
  if (unknown(cluster_id))
    return done(not_found<cluster_settings>(cluster_id));
  done(outcome<cluster_settings>::success(cluster_settings{true, false}));
}

void answering_bridge::change_settings(std::string cluster_id, cluster_settings,
                                       callback<bool> done) {
  if (unknown(cluster_id))
    return done(not_found<bool>(cluster_id));
  done(outcome<bool>::success(true));
}

void answering_bridge::activity(std::string cluster_id, activity_query query,
                                callback<std::vector<event_record>> done) {
  if (unknown(cluster_id))
    return done(not_found<std::vector<event_record>>(cluster_id));
  done(outcome<std::vector<event_record>>::success(
      {event_of(cluster_id, query.job_id, query.deployment_id)}));
}

void answering_bridge::service_metrics(std::string cluster_id, metrics_query query,
                                       callback<function_metrics> done) {
  if (unknown(cluster_id))
    return done(not_found<function_metrics>(cluster_id));
  function_metrics metrics;
  metrics.summary.push_back(
      function_summary{"fn", result_kind::resolution, 3, 1.5, 1.0, 2.0});
  metrics.timeseries.push_back(
      timeseries_bin{1700000000000, query.service, 1.5, 3, 0, 0});
  done(outcome<function_metrics>::success(std::move(metrics)));
}

void answering_bridge::job_detail(std::string cluster_id, std::string job_id,
                                  callback<diffplane::job_detail> done) {
  if (unknown(job_id))
    return done(not_found<diffplane::job_detail>(job_id));
  diffplane::job_detail detail;
  detail.job.cluster_id = cluster_id;
  detail.job.id = job_id;
  detail.job.service = "svc";
  detail.job.target_fn = "fn";
  detail.job.status = job_status::success;
  detail.job.result_type = result_kind::resolution;
  detail.job.result = "\"done\"";
  detail.job.created_at = 1700000000000;
  detail.activity.push_back(event_of(cluster_id, job_id, ""));
  done(outcome<diffplane::job_detail>::success(std::move(detail)));
}

void answering_bridge::live(callback<bool> done) {
  done(outcome<bool>::success(true));
}

void answering_bridge::nodes(callback<membership_view> done) {
  membership_view view;
  view.nodes.push_back(node_row{"node-fuzz", "127.0.0.1:4000", "", 0, 1, 2});
  view.leases.push_back(lease_row{"cluster-fuzz", "node-fuzz", 1, false, 3});
  done(outcome<membership_view>::success(std::move(view)));
}

void answering_bridge::create_job(const gateway::cluster_ref&, create_job_request request,
                                  callback<std::string> done) {
  done(outcome<std::string>::success(
      request.execution_id.empty() ? "job-1" : request.execution_id));
}

void answering_bridge::request_jobs(const gateway::cluster_ref&, jobs_request request,
                                    callback<std::vector<dispatched_job>> done) {
  std::vector<dispatched_job> jobs;
  for (const auto& fn : request.functions)
    jobs.push_back(dispatched_job{"job-" + fn, fn, "[]"});
  done(outcome<std::vector<dispatched_job>>::success(std::move(jobs)));
}

void answering_bridge::post_result(const gateway::cluster_ref&, job_result_post post,
                                   callback<bool> done) {
  if (unknown(post.job_id))
    return done(not_found<bool>(post.job_id));
  done(outcome<bool>::success(true));
}

void answering_bridge::job_statuses(const gateway::cluster_ref&, status_request request,
                                    callback<std::vector<job_status_row>> done) {
  std::vector<job_status_row> rows;
  for (const auto& id : request.ids)
    if (!unknown(id))
      rows.push_back(
          job_status_row{id, job_status::success, result_kind::resolution, id});
  if (request.single && rows.empty())
    return done(not_found<std::vector<job_status_row>>(request.ids.front()));
  done(outcome<std::vector<job_status_row>>::success(std::move(rows)));
}

void answering_bridge::post_client_events(const gateway::cluster_ref&, client_events_post,
                                          callback<bool> done) {
  done(outcome<bool>::success(true));
}

} // namespace diffplane::fuzz
