#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace diffplane {

/// How many long-polls are parked: shared by every actor that parks them.
using parked_counter = std::shared_ptr<std::atomic<std::size_t>>;

/// Counts the long-polls (worker polls and result waiters) parked in the process and in
/// one cluster, each under its limit, so that one tenant cannot take every parking place
/// of the process (--max-parked-polls, --max-parked-polls-per-cluster). The limits are
/// soft: actors of several clusters may pass a check at once and overshoot by a few.
class parked_polls {
public:
  /// Why a poll could not park.
  enum class refusal { none, process_full, cluster_full };

  parked_polls() = default;
  parked_polls(parked_counter in_process, std::size_t process_limit,
               std::size_t cluster_limit);

  /// Counts one more parked poll, or says which limit is reached (counting nothing).
  refusal try_park();
  /// Stops counting `n` parked polls.
  void unpark(std::size_t n = 1);
  /// Polls parked in this cluster.
  std::size_t in_cluster() const;

private:
  parked_counter in_process_;
  parked_counter in_cluster_;
  std::size_t process_limit_ = 0;
  std::size_t cluster_limit_ = 0;
};

} // namespace diffplane
