#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <unordered_map>

namespace diffplane::gateway {

/// Deadlines of the requests one bridge actor has open. CAF's own request timeouts cost
/// two events in its clock thread per request (set, then cancel), each of which can wake
/// that thread; here a request costs a map entry, and a check once a second expires the
/// overdue ones. Used from one actor only: not thread-safe.
class request_deadlines {
public:
  using clock = std::chrono::steady_clock;

  /// Registers a request; `expire` runs if it is still open once `due` has passed.
  std::uint64_t open(clock::time_point due, std::function<void()> expire);
  /// Closes a request; false if it had expired already (its answer must be dropped).
  bool close(std::uint64_t id);
  /// Forgets every request due by `now` and runs its `expire`.
  void expire_due(clock::time_point now);
  bool empty() const { return open_.empty(); }
  bool is_open(std::uint64_t id) const { return open_.count(id) > 0; }
  std::size_t size() const { return open_.size(); }

private:
  struct entry {
    clock::time_point due;
    std::function<void()> expire;
  };
  std::unordered_map<std::uint64_t, entry> open_;
  std::uint64_t next_id_ = 0;
};

} // namespace diffplane::gateway
