#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Plain rows of the tables, shared by the persistence actor and the domain actors. They
// carry no CAF or libpqxx types so that any layer can include them cheaply; `inspect`
// overloads make them messages (registered in actors/message_types.cpp).
namespace diffplane {

/// Milliseconds since the Unix epoch; 0 stands for SQL NULL.
using timestamp_ms = std::int64_t;

enum class job_status : std::uint8_t { pending, running, success, failure, stalled };
enum class result_kind : std::uint8_t { none, resolution, rejection };

std::string_view to_string(job_status status);
std::string_view to_string(result_kind kind);
/// Parses the SQL/JSON spelling; false when `text` names no status.
bool parse(std::string_view text, job_status& out);
bool parse(std::string_view text, result_kind& out);
/// Whether no further transition can happen.
inline bool is_terminal(job_status s) {
  return s == job_status::success || s == job_status::failure;
}

struct cluster_record {
  std::string id;
  std::string api_secret;
  std::string description; // empty: none
  timestamp_ms created_at = 0;
  bool predictive_retries_enabled = false;
  bool cloud_enabled = false;

  bool operator==(const cluster_record&) const = default;
};

/// A job row; the immutable call plus its current state.
struct job_record {
  std::string cluster_id;
  std::string id;
  std::string service;
  std::string target_fn;
  std::string target_args;
  std::string cache_key; // empty: not cached
  std::int32_t max_attempts = 2;
  std::int32_t timeout_seconds = 300;
  bool predictive_retries_on_rejection = false;
  bool background = false;
  /// The server drew the id at random (no executionId): no row can have it, so the
  /// insert need not look for one first. Not stored.
  bool id_generated = false;
  /// False for an ephemeral job (a native call with `durable` false): it lives in
  /// memory only, and no insert, state write or activity of it is sent to the writer,
  /// so a server crash or restart forgets it. Not stored.
  bool durable = true;
  timestamp_ms created_at = 0;
  // Mutable state, also carried by job_state_write.
  job_status status = job_status::pending;
  result_kind result_type = result_kind::none;
  std::string result;
  std::int32_t attempts_used = 0;
  std::string executing_machine_id;
  std::int32_t function_execution_time_ms = -1; // -1: none
  timestamp_ms last_dispatched_at = 0;
  timestamp_ms resulted_at = 0;
  /// Grows with every state change; a write only lands over an older revision.
  std::int64_t revision = 0;

  bool operator==(const job_record&) const = default;
};

/// The mutable part of a job row, written after every transition.
struct job_state_write {
  std::string cluster_id;
  std::string id;
  job_status status = job_status::pending;
  result_kind result_type = result_kind::none;
  std::string result;
  std::int32_t attempts_used = 0;
  std::string executing_machine_id;
  std::int32_t function_execution_time_ms = -1;
  timestamp_ms last_dispatched_at = 0;
  timestamp_ms resulted_at = 0;
  std::int64_t revision = 0;

  bool operator==(const job_state_write&) const = default;
};

/// Moves the live jobs of a cluster created before `created_before` (and after the
/// previous move) into live_jobs, where a restart finds them however old they get.
struct live_jobs_move {
  std::string cluster_id;
  timestamp_ms created_before = 0;

  bool operator==(const live_jobs_move&) const = default;
};

/// Gives `job` the state that `write` carries.
void apply(job_record& job, const job_state_write& write);

/// What a status poll answers about one job.
struct job_status_row {
  std::string id;
  job_status status = job_status::pending;
  result_kind result_type = result_kind::none;
  std::string result;

  bool operator==(const job_status_row&) const = default;
};

/// A job as listed by the management routes.
struct job_summary {
  std::string id;
  std::string target_fn;
  std::string service;
  job_status status = job_status::pending;
  result_kind result_type = result_kind::none;
  timestamp_ms created_at = 0;
  std::int32_t function_execution_time_ms = -1;

  bool operator==(const job_summary&) const = default;
};

struct machine_record {
  std::string cluster_id;
  std::string id;
  std::string service;
  std::string ip;
  std::string deployment_id;
  timestamp_ms last_ping_at = 0;

  bool operator==(const machine_record&) const = default;
};

struct service_record {
  std::string cluster_id;
  std::string name;
  std::vector<std::string> functions;
  timestamp_ms updated_at = 0;

  bool operator==(const service_record&) const = default;
};

/// One entry of a cluster's activity log: stored, or derived from a job row when read.
struct event_record {
  std::string cluster_id;
  std::string type;
  std::string job_id;
  std::string machine_id;
  std::string deployment_id;
  std::string service;
  std::string meta_json; // empty: none
  timestamp_ms created_at = 0;

  bool operator==(const event_record&) const = default;
};

/// A telemetry event sent by an SDK to POST /metrics.
struct client_event_record {
  std::string cluster_id;
  std::string machine_id;
  std::string deployment_id;
  std::string type;
  timestamp_ms timestamp = 0;
  std::string tags_json;
  std::string int_fields_json;

  bool operator==(const client_event_record&) const = default;
};

/// The latest cached resolution of (service, target_fn, cache_key).
struct cache_entry_record {
  std::string service;
  std::string target_fn;
  std::string cache_key;
  std::string job_id;
  timestamp_ms resulted_at = 0;

  bool operator==(const cache_entry_record&) const = default;
};

/// The latest resolution of one cache key that resulted after `since`: a create whose
/// cache ttl reaches further back than the resolutions a cluster keeps in memory.
struct cached_resolution_query {
  std::string cluster_id;
  std::string service;
  std::string target_fn;
  std::string cache_key;
  timestamp_ms since = 0;

  bool operator==(const cached_resolution_query&) const = default;
};

/// A change of a cluster's settings (PUT /clusters/:clusterId/settings).
struct cluster_settings_write {
  std::string cluster_id;
  bool predictive_retries_enabled = false;

  bool operator==(const cluster_settings_write&) const = default;
};

/// GET /clusters/:clusterId/activity: one job's events, one deployment's, or the latest.
struct activity_query {
  std::string cluster_id;
  std::string job_id;
  std::string deployment_id;
  std::int32_t limit = 1000;

  bool operator==(const activity_query&) const = default;
};

/// GET /clusters/:clusterId/metrics?serviceName=.
struct metrics_query {
  std::string cluster_id;
  std::string service;

  bool operator==(const metrics_query&) const = default;
};

/// Per function and result type: jobs resulted in the summary window.
struct function_summary {
  std::string target_fn;
  result_kind result_type = result_kind::none;
  std::int64_t count = 0;
  double avg_execution_time = 0;
  double min_execution_time = 0;
  double max_execution_time = 0;

  bool operator==(const function_summary&) const = default;
};

/// One minute of a service.
struct timeseries_bin {
  timestamp_ms bin = 0;
  std::string service;
  double avg_execution_time = 0;
  std::int64_t resulted = 0;
  std::int64_t stalled = 0;
  std::int64_t rejections = 0;

  bool operator==(const timeseries_bin&) const = default;
};

struct function_metrics {
  std::vector<function_summary> summary;
  std::vector<timeseries_bin> timeseries;

  bool operator==(const function_metrics&) const = default;
};

/// Everything a cluster actor needs to rebuild itself after a start or a crash.
/// Its live jobs are not part of it: they follow in pages (live_jobs_page_request), while
/// the cluster already serves.
struct cluster_snapshot {
  /// The cluster's own row (settings may have changed since the node loaded it).
  cluster_record cluster;
  std::vector<service_record> services;
  std::vector<machine_record> machines;
  std::vector<cache_entry_record> cache_entries;
  /// The cluster's live jobs created before this are in live_jobs; a new job must not be
  /// created before it (live_jobs_move).
  timestamp_ms live_jobs_before = 0;
  /// Every job of the cluster was created before this (0: it has none): the pages load
  /// only those, and a job the cluster creates while they load is created at or after
  /// it, so that no page reads it a second time.
  timestamp_ms load_before = 0;

  bool operator==(const cluster_snapshot&) const = default;
};

/// Asks for the next page of a cluster's live jobs, oldest first. The jobs are those of
/// one snapshot, taken at the first page, read through cursors on a connection of their
/// own (live_jobs_loader.hpp).
struct live_jobs_page_request {
  std::string cluster_id;
  std::int32_t limit = 0;

  bool operator==(const live_jobs_page_request&) const = default;
};

/// A page of live jobs; fewer than the limit asked for: the last one.
struct live_jobs_page {
  std::vector<job_record> jobs;
  /// How many live jobs the whole load brings, this page and those before it included;
  /// -1 while not counted yet (the first page comes before the count, so that the first
  /// poll waits for no count).
  std::int64_t total = -1;

  bool operator==(const live_jobs_page&) const = default;
};

template <class Inspector> auto inspect(Inspector& f, cluster_record& x) {
  return f(x.id, x.api_secret, x.description, x.created_at, x.predictive_retries_enabled,
           x.cloud_enabled);
}

template <class Inspector> auto inspect(Inspector& f, job_record& x) {
  return f(x.cluster_id, x.id, x.service, x.target_fn, x.target_args, x.cache_key,
           x.max_attempts, x.timeout_seconds, x.predictive_retries_on_rejection,
           x.background, x.id_generated, x.durable, x.created_at, x.status, x.result_type,
           x.result, x.attempts_used, x.executing_machine_id,
           x.function_execution_time_ms, x.last_dispatched_at, x.resulted_at, x.revision);
}

template <class Inspector> auto inspect(Inspector& f, live_jobs_move& x) {
  return f(x.cluster_id, x.created_before);
}

template <class Inspector> auto inspect(Inspector& f, job_state_write& x) {
  return f(x.cluster_id, x.id, x.status, x.result_type, x.result, x.attempts_used,
           x.executing_machine_id, x.function_execution_time_ms, x.last_dispatched_at,
           x.resulted_at, x.revision);
}

template <class Inspector> auto inspect(Inspector& f, job_status_row& x) {
  return f(x.id, x.status, x.result_type, x.result);
}

template <class Inspector> auto inspect(Inspector& f, job_summary& x) {
  return f(x.id, x.target_fn, x.service, x.status, x.result_type, x.created_at,
           x.function_execution_time_ms);
}

template <class Inspector> auto inspect(Inspector& f, machine_record& x) {
  return f(x.cluster_id, x.id, x.service, x.ip, x.deployment_id, x.last_ping_at);
}

template <class Inspector> auto inspect(Inspector& f, service_record& x) {
  return f(x.cluster_id, x.name, x.functions, x.updated_at);
}

template <class Inspector> auto inspect(Inspector& f, event_record& x) {
  return f(x.cluster_id, x.type, x.job_id, x.machine_id, x.deployment_id, x.service,
           x.meta_json, x.created_at);
}

template <class Inspector> auto inspect(Inspector& f, client_event_record& x) {
  return f(x.cluster_id, x.machine_id, x.deployment_id, x.type, x.timestamp, x.tags_json,
           x.int_fields_json);
}

template <class Inspector> auto inspect(Inspector& f, cache_entry_record& x) {
  return f(x.service, x.target_fn, x.cache_key, x.job_id, x.resulted_at);
}

template <class Inspector> auto inspect(Inspector& f, cached_resolution_query& x) {
  return f(x.cluster_id, x.service, x.target_fn, x.cache_key, x.since);
}

template <class Inspector> auto inspect(Inspector& f, cluster_settings_write& x) {
  return f(x.cluster_id, x.predictive_retries_enabled);
}

template <class Inspector> auto inspect(Inspector& f, activity_query& x) {
  return f(x.cluster_id, x.job_id, x.deployment_id, x.limit);
}

template <class Inspector> auto inspect(Inspector& f, metrics_query& x) {
  return f(x.cluster_id, x.service);
}

template <class Inspector> auto inspect(Inspector& f, function_summary& x) {
  return f(x.target_fn, x.result_type, x.count, x.avg_execution_time,
           x.min_execution_time, x.max_execution_time);
}

template <class Inspector> auto inspect(Inspector& f, timeseries_bin& x) {
  return f(x.bin, x.service, x.avg_execution_time, x.resulted, x.stalled, x.rejections);
}

template <class Inspector> auto inspect(Inspector& f, function_metrics& x) {
  return f(x.summary, x.timeseries);
}

template <class Inspector> auto inspect(Inspector& f, cluster_snapshot& x) {
  return f(x.cluster, x.services, x.machines, x.cache_entries, x.live_jobs_before,
           x.load_before);
}

template <class Inspector> auto inspect(Inspector& f, live_jobs_page_request& x) {
  return f(x.cluster_id, x.limit);
}

template <class Inspector> auto inspect(Inspector& f, live_jobs_page& x) {
  return f(x.jobs, x.total);
}

} // namespace diffplane
