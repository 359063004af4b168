#pragma once

#include "persistence/resource_records.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

// The events of a cluster's resources (issue 15, "Events"): which change of a resource is
// an event, and the numbered log the resources actor keeps of the newest ones, so that
// GET /resources/events is answered from memory and reads Postgres only for a cursor
// older than that.
namespace diffplane::resources {

/// The event of a resource going from `before` (null: it is new) to `after`, or none
/// when its state stayed the same. Unnumbered (seq 0).
std::optional<resource_event_record> transition(const resource_record* before,
                                                const resource_record& after);

/// The event of a resource removed from the cluster (a purge), at `at`.
resource_event_record purged(const resource_record& last, timestamp_ms at);

/// The numbering of a cluster's events and the newest of them. The cluster's owner is
/// the only writer of its events (under its lease), so it numbers them itself.
class event_log {
public:
  /// `last`: the highest number stored; `capacity`: how many events memory keeps.
  void start(std::int64_t last, std::size_t capacity);

  /// Sorts the events of one step by resource and numbers them in that order. Numbers
  /// are taken for good: if the commit fails they are skipped, never given again (the
  /// commit may have landed after all).
  void number(std::vector<resource_event_record>& events);

  /// The numbered events are committed: memory keeps them (and drops the oldest over
  /// its capacity).
  void committed(const std::vector<resource_event_record>& events);

  /// Events up to this number are not in memory (only in Postgres).
  std::int64_t floor() const { return floor_; }

  /// From memory: the events after `after` (not below floor()), at most `limit`, and
  /// the cursor to pass next.
  resource_events_page read(std::int64_t after, std::size_t limit) const;

private:
  std::int64_t next_ = 1;
  std::int64_t floor_ = 0;
  std::size_t capacity_ = 10000;
  std::deque<resource_event_record> recent_;
};

} // namespace diffplane::resources
