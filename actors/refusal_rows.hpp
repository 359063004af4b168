#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

namespace diffplane {

/// Bounds the activity rows one cluster writes for refused results. Every refusal
/// (a result for a finished job, for an attempt that is not the poster's, ...) is
/// counted, but its row goes to the writer outside the writer's queue limit, so a
/// worker that posts the same stale result in a loop would otherwise grow the events
/// table, and the writer's mailbox, without bound. A token bucket: `burst` rows at
/// once, then `per_second`. Copies share one bucket (the cluster, its pools and their
/// job actors); it is taken from several actor threads, rarely, so a mutex serves.
class refusal_rows {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// A bucket of its own with the given limits.
  refusal_rows(std::size_t burst, std::size_t per_second);
  /// A bucket of its own with the defaults (domain_options has them too); never
  /// unbounded, so a context built without the cluster's still has a bound.
  refusal_rows() : refusal_rows(100, 10) {}

  /// Whether the row of a refusal at `now` may be written; one that may not is
  /// counted in diffplane_jobs_results_not_recorded_total.
  bool take(time_point now);

private:
  struct bucket;
  std::shared_ptr<bucket> bucket_;
};

} // namespace diffplane
