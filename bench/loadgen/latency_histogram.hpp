#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace diffplane::bench {

/// Latencies in microseconds in log-linear buckets (HDR-like, < 1 % error), constant
/// memory.
class latency_histogram {
public:
  latency_histogram();

  /// Adds one sample; negative durations count as zero.
  void record(std::chrono::steady_clock::duration latency);

  /// Adds every sample of `other`.
  void merge(const latency_histogram& other);

  /// Number of samples.
  std::uint64_t count() const { return count_; }

  /// Largest sample, exact, in microseconds.
  std::uint64_t max_us() const { return max_; }

  /// The value at or below which `percent` of the samples lie, in microseconds (0 when
  /// empty).
  double percentile_us(double percent) const;

  /// Mean of the samples, exact, in microseconds.
  double mean_us() const;

private:
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
  long double sum_ = 0;
};

} // namespace diffplane::bench
