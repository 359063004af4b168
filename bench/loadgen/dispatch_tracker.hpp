#pragma once

#include "bench/loadgen/run_metrics.hpp"

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace diffplane::bench {

/// Pairs the moment a create's 201 reached its caller with the moment a worker received
/// that job; either may come first, since the two answers travel on different
/// connections.
class dispatch_tracker {
public:
  explicit dispatch_tracker(run_metrics& metrics) : metrics_(metrics) {}

  /// The caller got the 201 for job `id` at `at`.
  void acknowledged(const std::string& id, steady_time at);

  /// A worker received job `id` at `at`.
  void dispatched(const std::string& id, steady_time at);

private:
  struct sighting {
    std::optional<steady_time> acked;
    std::optional<steady_time> dispatched;
  };

  run_metrics& metrics_;
  std::mutex mutex_;
  std::unordered_map<std::string, sighting> open_; ///< Jobs seen by only one side so far.
};

} // namespace diffplane::bench
