#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace diffplane {

/// When an actor's parked requests (long-polls, result waits) run out, served by as few
/// timer messages as it takes to answer each one on time. A timer message per request
/// costs more than the request on a small machine: CAF 0.17's clock thread wakes for
/// every delayed message it is given, and the wake preempts the actor's own thread. Here
/// a timer is armed only for a request due before every timer already armed, so
/// requests with one ttl that are answered before it share one timer per ttl.
///
/// The actor sends itself a timer message for each time `add` or `fire` answers, carrying
/// that time (`encode`), and hands it back to `fire`. Not thread-safe (one actor's).
template <class TimePoint>
class expiry_schedule {
public:
  struct fired {
    /// The requests due by now, no longer in the schedule: answer each as expired.
    std::vector<std::uint64_t> due;
    /// A timer to arm for the next request due, when no armed one comes by then.
    std::optional<TimePoint> arm;
  };

  /// Adds request `id`, due at `at`; answers a timer to arm, if one is needed.
  std::optional<TimePoint> add(std::uint64_t id, TimePoint at) {
    due_.emplace(at, id);
    return arm_by(at);
  }

  /// Forgets request `id` (answered before `at`); no-op when it is not in the schedule.
  void remove(std::uint64_t id, TimePoint at) { due_.erase({at, id}); }

  /// The timer armed for `armed` arrived at `now`.
  fired fire(TimePoint armed, TimePoint now) {
    if (auto it = armed_.find(armed); it != armed_.end())
      armed_.erase(it);
    fired result;
    while (!due_.empty() && due_.begin()->first <= now) {
      result.due.push_back(due_.begin()->second);
      due_.erase(due_.begin());
    }
    if (!due_.empty())
      result.arm = arm_by(due_.begin()->first);
    return result;
  }

  bool empty() const { return due_.empty(); }
  std::size_t size() const { return due_.size(); }
  /// Timers armed and not fired yet.
  std::size_t armed() const { return armed_.size(); }

  /// A time as the integer a timer message carries, and back.
  static std::uint64_t encode(TimePoint at) {
    return static_cast<std::uint64_t>(at.time_since_epoch().count());
  }
  static TimePoint decode(std::uint64_t value) {
    using duration = typename TimePoint::duration;
    return TimePoint{duration{static_cast<typename duration::rep>(value)}};
  }

private:
  /// A timer for `at` unless one armed comes by then.
  std::optional<TimePoint> arm_by(TimePoint at) {
    if (!armed_.empty() && *armed_.begin() <= at)
      return std::nullopt;
    armed_.insert(at);
    return at;
  }

  std::set<std::pair<TimePoint, std::uint64_t>> due_;
  std::multiset<TimePoint> armed_;
};

} // namespace diffplane
