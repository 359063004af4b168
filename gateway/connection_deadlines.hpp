#pragma once

#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

namespace diffplane::gateway {

/// The read, write and handshake deadlines of one server's connections, checked by one
/// periodic sweep. A timer per socket operation (Beast's basic_stream) armed and
/// cancelled a timer, and ran the cancelled wait's handler, on every read and write;
/// here an operation costs a store of its deadline. The price is precision: a
/// connection is cut up to one sweep interval after its deadline.
class connection_deadlines {
public:
  using clock = std::chrono::steady_clock;

  /// One connection's deadline. Armed and disarmed on the connection's own executor;
  /// the sweep reads it from whichever thread runs the sweep.
  class entry {
  public:
    entry() = default;
    entry(const entry&) = delete;
    entry& operator=(const entry&) = delete;

    void arm(clock::time_point due) {
      due_.store(due.time_since_epoch().count(), std::memory_order_relaxed);
    }
    void disarm() { due_.store(never, std::memory_order_relaxed); }
    bool overdue(clock::time_point now) const {
      return due_.load(std::memory_order_relaxed) <= now.time_since_epoch().count();
    }

    /// Called by the sweep, on its thread, once the deadline has passed: the connection
    /// checks again on its own executor (it may have moved on meanwhile) and closes.
    virtual void expire() = 0;

  protected:
    ~entry() = default;

  private:
    static constexpr clock::rep never = std::numeric_limits<clock::rep>::max();
    std::atomic<clock::rep> due_{never};
  };

  /// Watches `connection` until it is destroyed (the sweep forgets it then by itself).
  void watch(const std::shared_ptr<entry>& connection);

  /// Calls expire() of every watched connection overdue at `now`; returns how many.
  std::size_t expire_due(clock::time_point now);

  /// Connections watched, destroyed ones not yet forgotten included.
  std::size_t size() const;

  /// How often to sweep for deadlines of `timeout`: a quarter of it, at most a second.
  static clock::duration interval_for(clock::duration timeout);

private:
  mutable std::mutex mutex_;
  std::vector<std::weak_ptr<entry>> watched_;
};

} // namespace diffplane::gateway
