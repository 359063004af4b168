#pragma once

#include "metrics/registry.hpp"

#include <caf/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

// The payload bytes one cluster holds in memory, bounded by
// domain_options::max_live_bytes_per_cluster: the live-job cap alone let a tenant pin
// gigabytes with a few thousand jobs of 4 MB arguments, and take the server down for
// every tenant.
namespace diffplane::cluster_internal {

/// What one holder (an index entry, an insert in flight) added to a held_bytes, kept so
/// that it takes back exactly that: the string it counted may have changed or moved
/// since. 32 bits, to fit in job_entry's padding; a payload is at most a few MB (the
/// body limit, the native frame), and a larger one counts as the most this holds.
using byte_share = std::uint32_t;

/// A cluster's count of payload bytes, the sum of its holders' shares.
class held_bytes {
public:
  /// Makes `share` count `bytes`, the total following: O(1), no allocation, as it runs
  /// for every create and every result.
  void recount(byte_share& share, std::size_t bytes) {
    auto counted = static_cast<byte_share>(
        std::min<std::size_t>(bytes, std::numeric_limits<byte_share>::max()));
    total_ -= share;
    total_ += counted;
    share = counted;
  }

  /// Takes back a share whose holder is gone.
  void release(byte_share share) { total_ -= share; }

  std::uint64_t total() const { return total_; }

  /// Brings `gauge` (diffplane_live_bytes, the sum over the process's clusters) up to
  /// date with this count. Called at each sweep rather than at each change: the hot
  /// path then touches no shared cache line.
  void publish(metrics::gauge& gauge) {
    gauge.add(static_cast<std::int64_t>(total_) - published_);
    published_ = static_cast<std::int64_t>(total_);
  }

  /// Takes this count out of `gauge`: its cluster ends.
  void unpublish(metrics::gauge& gauge) {
    gauge.add(-published_);
    published_ = 0;
  }

private:
  std::uint64_t total_ = 0;
  std::int64_t published_ = 0;
};

/// Refuses (error_code::limit_reached) a job whose `args_bytes` of arguments would take
/// `held` past `budget` bytes; none when they fit.
caf::error check_byte_budget(const held_bytes& held, std::size_t args_bytes,
                             std::uint64_t budget);

} // namespace diffplane::cluster_internal
