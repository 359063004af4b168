#pragma once

#include "persistence/resource_namespace_records.hpp"
#include "persistence/resource_records.hpp"

#include <string>

// The rules of resource namespaces (max_workers, expiry, retention) and the commands on
// one resource (invalidate, delete), as pure functions and plain messages: the resources
// actor applies them.
namespace diffplane {

/// POST /resources/:kind/:id/invalidate (remove false) or DELETE /resources/:kind/:id.
struct resource_command {
  std::string kind;
  std::string id;
  bool remove = false;

  bool operator==(const resource_command&) const = default;
};

/// What a resource_command did: "invalidated" (the resource is `expired` and worked
/// again), "removed", "not_found", or "not_synced" (invalidate of a resource in `state`).
struct resource_command_result {
  std::string outcome;
  std::string state;

  bool operator==(const resource_command_result&) const = default;
};

template <class Inspector> auto inspect(Inspector& f, resource_command& x) {
  return f(x.kind, x.id, x.remove);
}

template <class Inspector> auto inspect(Inspector& f, resource_command_result& x) {
  return f(x.outcome, x.state);
}

namespace resources {

/// What a namespace's timers make of a resource at `now`.
enum class due_action { none, expire, purge };

/// A synced resource expires `expiry_ttl` after it was synced (its `updated_at`); when
/// the namespace has no expiry, it is purged `synced_retention` after. Expiry comes
/// first: with both set, synced resources are worked again, never purged. A deleted
/// resource is purged `deleted_retention` after it was deleted.
due_action due_now(const resource_record& resource, const resource_namespace_record& ns,
                   timestamp_ms now);

/// Whether the namespace has any timer (expiry or retention), so needs the periodic scan.
bool has_timers(const resource_namespace_record& ns);

/// Whether a work of `resource` is queued in a pool or running (it counts against its
/// namespace's max_workers).
inline bool has_work(const resource_record& resource) {
  return !resource.work_job_id.empty();
}

/// Whether `resource` waits for a slot of its namespace's max_workers: due for work
/// (scheduled or expired) with no job yet.
inline bool is_held(const resource_record& resource) {
  return !has_work(resource) && (resource.state == resource_state::scheduled ||
                                 resource.state == resource_state::expired);
}

} // namespace resources

} // namespace diffplane
