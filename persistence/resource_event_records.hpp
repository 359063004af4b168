#pragma once

#include "persistence/records.hpp"

#include <cstdint>
#include <string>
#include <vector>

// Rows and queries of the resource_events table: the durable, numbered log of every
// state change of a cluster's resources (issue 15, "Events"). Plain structs with
// `inspect`, registered in actors/message_types.cpp.
namespace diffplane {

/// One state change of a resource, written in the same commit as the change.
struct resource_event_record {
  std::string cluster_id;
  /// The cluster's sequence number: grows with every event, across restarts and moves
  /// to other nodes (numbers of a failed commit are skipped, never reused). The cursor.
  std::int64_t seq = 0;
  std::string kind;
  std::string id;
  /// What happened: the state entered (scheduled, pending, synced, failed, degraded,
  /// expired, deleted), or "purged" when the resource was removed.
  std::string type;
  /// The state after the change (for "purged": the last one it had).
  std::string state;
  /// The state before (empty: the resource is new).
  std::string previous_state;
  /// The resource's attempt count after the change.
  std::int32_t attempt = 0;
  /// Why the last attempt failed (failed, degraded); empty: none.
  std::string message;
  /// The work job queued or running after the change; empty: none.
  std::string job_id;
  timestamp_ms at = 0;

  bool operator==(const resource_event_record&) const = default;
};

/// GET /resources/events (to the cluster), and the read of stored events behind it (to
/// the persistence actor, with `up_to` set).
struct resource_events_request {
  std::string cluster_id;
  /// Events after this sequence number.
  std::int64_t after = 0;
  std::int32_t limit = 100;
  /// How long an empty answer may wait for an event; 0: answer at once.
  std::int32_t ttl_ms = 0;
  /// Reads only: events up to this number (those no longer in the actor's memory).
  std::int64_t up_to = 0;

  bool operator==(const resource_events_request&) const = default;
};

/// The answer of GET /resources/events.
struct resource_events_page {
  std::vector<resource_event_record> events;
  /// Pass it back as `after`: the last event's number, or `after` when there is none.
  std::int64_t cursor = 0;

  bool operator==(const resource_events_page&) const = default;
};

template <class Inspector> auto inspect(Inspector& f, resource_event_record& x) {
  return f(x.cluster_id, x.seq, x.kind, x.id, x.type, x.state, x.previous_state,
           x.attempt, x.message, x.job_id, x.at);
}

template <class Inspector> auto inspect(Inspector& f, resource_events_request& x) {
  return f(x.cluster_id, x.after, x.limit, x.ttl_ms, x.up_to);
}

template <class Inspector> auto inspect(Inspector& f, resource_events_page& x) {
  return f(x.events, x.cursor);
}

} // namespace diffplane
