#pragma once

#include "persistence/resource_records.hpp"

#include <cstdint>
#include <string>
#include <vector>

// The requests and answers of resource controllers between the gateway and the actors.
// Plain structs with `inspect`, registered in message_types.cpp.
namespace diffplane {

/// One resource of POST /resources, validated by the gateway.
struct resource_input {
  std::string kind;
  std::string id;
  /// Canonical JSON (keys sorted): equal objects give equal text and so equal hashes.
  std::string object_json;
  bool has_version = false;
  std::int64_t version = 0;
  std::string namespace_name; // empty: keep (or "default")
  std::string tags_json;      // empty: keep (or {})
  std::string metadata_json;  // empty: keep (or none)
  timestamp_ms external_created_at = 0;
  std::int32_t max_attempts = 0; // 0: keep (or the default)
  /// The object as msgpack, from the gateway's parse of the request; empty: derived
  /// from object_json when needed (the work job's arguments, resources::work_args).
  std::string object_msgpack;

  bool operator==(const resource_input&) const = default;
};

/// POST /resources: 1 to 1,000 resources, applied in one commit.
struct resource_inform_request {
  std::vector<resource_input> items;

  bool operator==(const resource_inform_request&) const = default;
};

/// What became of one informed resource: scheduled, coalesced, unchanged or stale.
struct inform_result {
  std::string kind;
  std::string id;
  std::string outcome;

  bool operator==(const inform_result&) const = default;
};

template <class Inspector> auto inspect(Inspector& f, resource_input& x) {
  return f(x.kind, x.id, x.object_json, x.has_version, x.version, x.namespace_name,
           x.tags_json, x.metadata_json, x.external_created_at, x.max_attempts,
           x.object_msgpack);
}

template <class Inspector> auto inspect(Inspector& f, resource_inform_request& x) {
  return f(x.items);
}

template <class Inspector> auto inspect(Inspector& f, inform_result& x) {
  return f(x.kind, x.id, x.outcome);
}

} // namespace diffplane
