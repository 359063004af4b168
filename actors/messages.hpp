#pragma once

#include "persistence/records.hpp"

#include <cstdint>
#include <string>
#include <vector>

// The requests and answers the domain actors exchange with the gateway and each other.
// Plain structs with `inspect`, free of CAF so the gateway can use them without its
// headers; every one is registered in message_types.cpp.
namespace diffplane {

/// POST /jobs, with the SDK's callConfig defaults already applied.
struct create_job_request {
  std::string service;
  std::string target_fn;
  std::string target_args;
  std::string cache_key; // empty: no cache
  std::int32_t cache_ttl_seconds = 0;
  std::int32_t retry_count_on_stall = 1;
  bool predictive_retries_on_rejection = false;
  std::int32_t timeout_seconds = 300;
  std::string execution_id; // empty: generate an id
  bool background = false;
  /// False: an ephemeral job, never written to Postgres (job_record::durable). Set by
  /// native calls only; the HTTP API always creates durable jobs.
  bool durable = true;

  bool operator==(const create_job_request&) const = default;
};

/// POST /jobs-request: a worker's long-poll for up to `limit` jobs of a service.
struct jobs_request {
  std::string service;
  std::int32_t limit = 1;
  std::int32_t ttl_ms = 20000;
  std::string machine_id;
  std::string deployment_id;
  std::string ip;
  bool announces_functions = false;
  std::vector<std::string> functions;

  bool operator==(const jobs_request&) const = default;
};

/// A job as handed to a worker.
struct dispatched_job {
  std::string id;
  std::string target_fn;
  std::string target_args;
  /// Which attempt of the job this is (1 for the first); the worker echoes it in the
  /// result route, so a late result of an earlier attempt is never taken for this one's.
  std::int32_t attempt = 1;

  bool operator==(const dispatched_job&) const = default;
};

/// POST /jobs/:jobId/result.
struct job_result_post {
  std::string job_id;
  std::string machine_id;
  std::string deployment_id;
  std::string ip;
  std::string result;
  result_kind type = result_kind::resolution;
  std::int32_t function_execution_time_ms = -1;
  /// The attempt the result is of (see dispatched_job::attempt).
  std::int32_t attempt = 1;

  bool operator==(const job_result_post&) const = default;
};

/// GET /jobs/:jobId (single) and POST /batch-jobs-status-request: answered as soon as one
/// of the jobs is finished, else when `ttl_ms` passes.
struct status_request {
  std::vector<std::string> ids;
  std::int32_t ttl_ms = 20000;
  bool single = false;

  bool operator==(const status_request&) const = default;
};

/// POST /metrics from a machine.
struct client_events_post {
  std::vector<client_event_record> events;

  bool operator==(const client_events_post&) const = default;
};

/// GET /clusters/:clusterId.
struct cluster_details {
  cluster_record cluster;
  std::vector<machine_record> machines;
  std::vector<job_summary> jobs;
  std::vector<service_record> definitions;

  bool operator==(const cluster_details&) const = default;
};

/// GET /clusters/:clusterId/service/:serviceName.
struct service_details_request {
  std::string service;
  std::int32_t limit = 2000;

  bool operator==(const service_details_request&) const = default;
};

struct service_details {
  std::vector<job_summary> jobs;
  bool has_definition = false;
  service_record definition;

  bool operator==(const service_details&) const = default;
};

/// GET (answer) and PUT (request) /clusters/:clusterId/settings; cloudEnabled is
/// read-only.
struct cluster_settings {
  bool predictive_retries_enabled = false;
  bool cloud_enabled = false;

  bool operator==(const cluster_settings&) const = default;
};

/// A job row and its activity, for operators (GET /clusters/:clusterId/jobs/:jobId).
struct job_detail {
  job_record job;
  std::vector<event_record> activity;

  bool operator==(const job_detail&) const = default;
};

/// A job's state change that the cluster's index follows.
struct job_status_changed {
  std::string id;
  job_status status = job_status::pending;

  bool operator==(const job_status_changed&) const = default;
};

/// A job reached success or failure; the cluster answers its waiters and caches.
struct job_finished {
  job_status_row row;
  std::string service;
  std::string target_fn;
  std::string cache_key;
  timestamp_ms resulted_at = 0;

  bool operator==(const job_finished&) const = default;
};

template <class Inspector> auto inspect(Inspector& f, create_job_request& x) {
  return f(x.service, x.target_fn, x.target_args, x.cache_key, x.cache_ttl_seconds,
           x.retry_count_on_stall, x.predictive_retries_on_rejection, x.timeout_seconds,
           x.execution_id, x.background, x.durable);
}

template <class Inspector> auto inspect(Inspector& f, jobs_request& x) {
  return f(x.service, x.limit, x.ttl_ms, x.machine_id, x.deployment_id, x.ip,
           x.announces_functions, x.functions);
}

template <class Inspector> auto inspect(Inspector& f, dispatched_job& x) {
  return f(x.id, x.target_fn, x.target_args, x.attempt);
}

template <class Inspector> auto inspect(Inspector& f, job_result_post& x) {
  return f(x.job_id, x.machine_id, x.deployment_id, x.ip, x.result, x.type,
           x.function_execution_time_ms, x.attempt);
}

template <class Inspector> auto inspect(Inspector& f, status_request& x) {
  return f(x.ids, x.ttl_ms, x.single);
}

template <class Inspector> auto inspect(Inspector& f, client_events_post& x) {
  return f(x.events);
}

template <class Inspector> auto inspect(Inspector& f, cluster_details& x) {
  return f(x.cluster, x.machines, x.jobs, x.definitions);
}

template <class Inspector> auto inspect(Inspector& f, service_details_request& x) {
  return f(x.service, x.limit);
}

template <class Inspector> auto inspect(Inspector& f, service_details& x) {
  return f(x.jobs, x.has_definition, x.definition);
}

template <class Inspector> auto inspect(Inspector& f, cluster_settings& x) {
  return f(x.predictive_retries_enabled, x.cloud_enabled);
}

template <class Inspector> auto inspect(Inspector& f, job_detail& x) {
  return f(x.job, x.activity);
}

template <class Inspector> auto inspect(Inspector& f, job_status_changed& x) {
  return f(x.id, x.status);
}

template <class Inspector> auto inspect(Inspector& f, job_finished& x) {
  return f(x.row, x.service, x.target_fn, x.cache_key, x.resulted_at);
}

} // namespace diffplane
