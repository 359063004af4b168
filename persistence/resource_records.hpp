#pragma once

#include "persistence/records.hpp"
#include "persistence/resource_namespace_records.hpp"
#include "persistence/resource_event_records.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Rows and queries of the resources table (resource controllers, issue 15). Plain structs
// with `inspect`, like records.hpp, registered in actors/message_types.cpp.
namespace diffplane {

/// scheduled: work queued; pending: being worked; synced: the last work succeeded;
/// failed: the last attempt failed and a retry is due; degraded: attempts spent;
/// expired: synced too long ago or invalidated; deleted: the controller said it is gone.
enum class resource_state : std::uint8_t {
  scheduled,
  pending,
  synced,
  failed,
  degraded,
  expired,
  deleted
};

std::string_view to_string(resource_state state);
/// Parses the SQL/JSON spelling; false when `text` names no state.
bool parse(std::string_view text, resource_state& out);

/// One resource: the informed object and where its work stands.
struct resource_record {
  std::string cluster_id;
  std::string kind;
  std::string id;
  /// The object as canonical JSON (keys sorted), and the SHA-256 (hex) of that text.
  std::string object_json;
  std::string hash;
  bool has_version = false;
  std::int64_t version = 0;
  std::string namespace_name = "default";
  std::string tags_json = "{}";
  std::string metadata_json; // empty: none
  timestamp_ms external_created_at = 0;
  resource_state state = resource_state::scheduled;
  std::int32_t attempts = 0;
  std::int32_t max_attempts = 10;
  /// [{"attempt", "message", "at"}] of the current object's failed attempts.
  std::string errors_json = "[]";
  bool dirty = false;
  std::string work_job_id; // empty: none
  timestamp_ms next_attempt_at = 0;
  std::int64_t revision = 0;
  timestamp_ms created_at = 0;
  timestamp_ms updated_at = 0;

  bool operator==(const resource_record&) const = default;
};

/// A kind's controller settings (PUT /resources-kinds/:kind); 0: the server's default.
struct resource_kind_record {
  std::string cluster_id;
  std::string kind;
  std::int64_t backoff_base_ms = 0;
  std::int64_t backoff_cap_ms = 0;
  std::int32_t timeout_seconds = 0;
  timestamp_ms updated_at = 0;
  /// The informer runs this often (0: off).
  std::int32_t inform_interval_seconds = 0;
  /// When the informer's last successful run started (0: never; 0 in a write keeps the
  /// stored time).
  timestamp_ms last_informed_at = 0;
  /// Why the informer's last run failed (empty: it did not); stored with its last run.
  std::string inform_error;

  bool operator==(const resource_kind_record&) const = default;
};

/// The writes of one step of a cluster's resources, committed in one transaction: the
/// resource rows and the work jobs they created. A queued work an inform coalesced into
/// is not written: its newest object is its resource's row (give_newest_work_args).
struct resource_write {
  std::string cluster_id;
  std::vector<resource_record> resources;
  std::vector<job_record> jobs;
  std::vector<resource_kind_record> kinds;
  std::vector<resource_namespace_record> namespaces;
  /// Rows deleted before the resources above are written (one may be informed anew).
  std::vector<resource_key> removed;
  /// The state changes of these rows, numbered (resource_events.hpp).
  std::vector<resource_event_record> events;
  /// Work jobs of removed resources to withdraw from their pools if still queued (the
  /// resources actor asks; the cluster answers with `job_states`).
  std::vector<std::string> withdraw;
  /// The ends of the withdrawn jobs, committed with the removal: a job leaves its queue
  /// in the same commit as its resource, so no restart finds it queued again.
  std::vector<job_state_write> job_states;

  bool operator==(const resource_write&) const = default;
};

/// A resource as loaded at start, with the state of its work job (job_found false: the
/// row names no job, or one that does not exist).
struct loaded_resource {
  resource_record resource;
  bool job_found = false;
  job_status job_status_value = job_status::pending;
  result_kind job_result_type = result_kind::none;
  std::string job_result;

  bool operator==(const loaded_resource&) const = default;
};

/// What the resources actor loads at start.
struct resources_snapshot {
  std::vector<loaded_resource> resources;
  std::vector<resource_kind_record> kinds;
  std::vector<resource_namespace_record> namespaces;
  /// The cluster's highest event number (0: none).
  std::int64_t last_event_seq = 0;

  bool operator==(const resources_snapshot&) const = default;
};

/// GET (change false) or PUT (change true, with `settings`) /resources-kinds/:kind;
/// answered with the kind's settings in effect.
struct resource_kind_request {
  std::string kind;
  bool change = false;
  resource_kind_record settings;

  bool operator==(const resource_kind_request&) const = default;
};

/// GET /resources/:kind/:id (kind and id set) or GET /resources (filters, empty: any).
struct resource_query {
  std::string cluster_id;
  std::string kind;
  std::string id;
  std::string state;
  std::string namespace_name;
  std::int32_t limit = 100;
  /// Resources after this key ("kind/id") in key order; empty: from the first.
  std::string cursor;

  bool operator==(const resource_query&) const = default;
};

struct resource_page {
  std::vector<resource_record> items;
  /// The cursor of the next page; empty: this was the last.
  std::string next_cursor;

  bool operator==(const resource_page&) const = default;
};

/// GET /resources-counts: resources by state (filters, empty: any).
struct resource_counts_query {
  std::string cluster_id;
  std::string kind;
  std::string namespace_name;

  bool operator==(const resource_counts_query&) const = default;
};

struct resource_count {
  std::string state;
  std::int64_t count = 0;

  bool operator==(const resource_count&) const = default;
};

template <class Inspector> auto inspect(Inspector& f, resource_record& x) {
  return f(x.cluster_id, x.kind, x.id, x.object_json, x.hash, x.has_version, x.version,
           x.namespace_name, x.tags_json, x.metadata_json, x.external_created_at, x.state,
           x.attempts, x.max_attempts, x.errors_json, x.dirty, x.work_job_id,
           x.next_attempt_at, x.revision, x.created_at, x.updated_at);
}

template <class Inspector> auto inspect(Inspector& f, resource_kind_record& x) {
  return f(x.cluster_id, x.kind, x.backoff_base_ms, x.backoff_cap_ms, x.timeout_seconds,
           x.updated_at, x.inform_interval_seconds, x.last_informed_at, x.inform_error);
}

template <class Inspector> auto inspect(Inspector& f, resources_snapshot& x) {
  return f(x.resources, x.kinds, x.namespaces, x.last_event_seq);
}

template <class Inspector> auto inspect(Inspector& f, resource_kind_request& x) {
  return f(x.kind, x.change, x.settings);
}

template <class Inspector> auto inspect(Inspector& f, resource_write& x) {
  return f(x.cluster_id, x.resources, x.jobs, x.kinds, x.namespaces, x.removed,
           x.events, x.withdraw, x.job_states);
}

template <class Inspector> auto inspect(Inspector& f, loaded_resource& x) {
  return f(x.resource, x.job_found, x.job_status_value, x.job_result_type, x.job_result);
}

template <class Inspector> auto inspect(Inspector& f, resource_query& x) {
  return f(x.cluster_id, x.kind, x.id, x.state, x.namespace_name, x.limit, x.cursor);
}

template <class Inspector> auto inspect(Inspector& f, resource_page& x) {
  return f(x.items, x.next_cursor);
}

template <class Inspector> auto inspect(Inspector& f, resource_counts_query& x) {
  return f(x.cluster_id, x.kind, x.namespace_name);
}

template <class Inspector> auto inspect(Inspector& f, resource_count& x) {
  return f(x.state, x.count);
}

} // namespace diffplane
