#include "actors/resource_namespaces.hpp"

namespace diffplane::resources {

namespace {

/// Whether `seconds` (0: off) passed from `since` to `now`.
bool passed(std::int64_t seconds, timestamp_ms since, timestamp_ms now) {
  return seconds > 0 && now - since >= seconds * 1000;
}

} // namespace

due_action due_now(const resource_record& resource, const resource_namespace_record& ns,
                   timestamp_ms now) {
  if (resource.state == resource_state::synced) {
    if (ns.expiry_ttl_seconds > 0)
      return passed(ns.expiry_ttl_seconds, resource.updated_at, now) ? due_action::expire
                                                                     : due_action::none;
    return passed(ns.synced_retention_seconds, resource.updated_at, now)
               ? due_action::purge
               : due_action::none;
  }
  if (resource.state == resource_state::deleted)
    return passed(ns.deleted_retention_seconds, resource.updated_at, now)
               ? due_action::purge
               : due_action::none;
  return due_action::none;
}

bool has_timers(const resource_namespace_record& ns) {
  return ns.expiry_ttl_seconds > 0 || ns.synced_retention_seconds > 0 ||
         ns.deleted_retention_seconds > 0;
}

} // namespace diffplane::resources
