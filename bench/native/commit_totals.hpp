#pragma once

#include <cstdint>
#include <optional>
#include <string>

// The server's group commits so far, read from its Prometheus listener, so that a phase
// of native-bench can be set beside the commits made while it ran (issue 14's durable
// target is "the relay + one group commit + 0.3 ms").
namespace diffplane::bench::native {

struct commit_totals {
  double seconds = 0;
  double count = 0;
};

/// diffplane_persistence_commit_seconds_{sum,count} from `GET /metrics` on `address`
/// ("host:port", plain HTTP); nothing when it cannot be read.
std::optional<commit_totals> read_commit_totals(const std::string& address);

/// The commits between two readings: how many, and their mean in milliseconds (0 when
/// none).
struct commit_window {
  double count = 0;
  double mean_ms = 0;
};
commit_window between(const commit_totals& before, const commit_totals& after);

} // namespace diffplane::bench::native
