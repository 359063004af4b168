#pragma once

#include "persistence/records.hpp"

#include <cstdint>
#include <string>

// Rows of resource namespaces and removed resources (issue 15), apart from
// resource_records.hpp so that each increment of resources keeps to its own file.
namespace diffplane {

/// A namespace's limits (PUT /resources-namespaces/:name); 0: unlimited (max_workers) or
/// off (the others). A namespace without settings has them all 0.
struct resource_namespace_record {
  std::string cluster_id;
  std::string name;
  /// At most this many works of the namespace queued in a pool or running at once.
  std::int32_t max_workers = 0;
  /// A resource synced longer ago than this becomes `expired` and is worked again.
  std::int64_t expiry_ttl_seconds = 0;
  /// Resources synced (when expiry is off) or deleted longer ago than this are purged.
  std::int64_t synced_retention_seconds = 0;
  std::int64_t deleted_retention_seconds = 0;
  timestamp_ms updated_at = 0;

  bool operator==(const resource_namespace_record&) const = default;
};

/// GET (change false) or PUT (change true, with `settings`) /resources-namespaces/:name;
/// answered with the namespace's settings.
struct resource_namespace_request {
  std::string name;
  bool change = false;
  resource_namespace_record settings;

  bool operator==(const resource_namespace_request&) const = default;
};

/// A resource whose row is removed (DELETE /resources/:kind/:id or a retention purge).
struct resource_key {
  std::string cluster_id;
  std::string kind;
  std::string id;

  bool operator==(const resource_key&) const = default;
};

template <class Inspector> auto inspect(Inspector& f, resource_namespace_record& x) {
  return f(x.cluster_id, x.name, x.max_workers, x.expiry_ttl_seconds,
           x.synced_retention_seconds, x.deleted_retention_seconds, x.updated_at);
}

template <class Inspector> auto inspect(Inspector& f, resource_namespace_request& x) {
  return f(x.name, x.change, x.settings);
}

template <class Inspector> auto inspect(Inspector& f, resource_key& x) {
  return f(x.cluster_id, x.kind, x.id);
}

} // namespace diffplane
