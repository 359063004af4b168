#include "bench/loadgen/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace diffplane::bench {

namespace {

// Values below 128 us get a bucket each; above, every power of two is split into 64 equal
// buckets, so a bucket is never wider than 1/64 of its value (HdrHistogram's layout).
constexpr unsigned linear_bits = 7;
constexpr std::uint64_t linear_limit = std::uint64_t{1} << linear_bits;
constexpr std::uint64_t half = linear_limit / 2;
constexpr std::size_t bucket_count = 64 * half;

std::size_t bucket_of(std::uint64_t value) {
  if (value < linear_limit)
    return static_cast<std::size_t>(value);
  const unsigned shift = static_cast<unsigned>(std::bit_width(value)) - linear_bits;
  return static_cast<std::size_t>(shift * half + (value >> shift));
}

// The midpoint of a bucket: the best single guess for any sample that fell into it.
double value_of(std::size_t bucket) {
  if (bucket < linear_limit)
    return static_cast<double>(bucket);
  const std::size_t shift = bucket / half - 1;
  const double low =
      std::ldexp(static_cast<double>(bucket - shift * half), static_cast<int>(shift));
  return low + std::ldexp(0.5, static_cast<int>(shift));
}

} // namespace

latency_histogram::latency_histogram() : buckets_(bucket_count, 0) {}

void latency_histogram::record(std::chrono::steady_clock::duration latency) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(latency).count();
  const std::uint64_t value = us > 0 ? static_cast<std::uint64_t>(us) : 0;
  ++buckets_[bucket_of(value)];
  ++count_;
  max_ = std::max(max_, value);
  sum_ += value;
}

void latency_histogram::merge(const latency_histogram& other) {
  for (std::size_t i = 0; i < buckets_.size(); ++i)
    buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

double latency_histogram::percentile_us(double percent) const {
  if (count_ == 0)
    return 0;
  const auto wanted = static_cast<std::uint64_t>(
      std::ceil(std::clamp(percent, 0.0, 100.0) / 100.0 * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= std::max<std::uint64_t>(wanted, 1))
      return std::min(value_of(i), static_cast<double>(max_));
  }
  return static_cast<double>(max_);
}

double latency_histogram::mean_us() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / count_);
}

} // namespace diffplane::bench
