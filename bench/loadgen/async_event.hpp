#pragma once

#include "bench/loadgen/executor.hpp"

#include <boost/asio/redirect_error.hpp>

namespace diffplane::bench {

/// Wakes coroutines of one strand that wait for a condition to change; waiters re-check
/// their condition after each wake-up, so a notify with nobody waiting is simply dropped.
class async_event {
public:
  explicit async_event(executor strand) : timer_(std::move(strand)) {
    // Set once: changing the expiry later would cancel the other waiters' waits.
    timer_.expires_at(timer::time_point::max());
  }

  /// Suspends until the next notify() (or cancellation).
  task<void> wait() {
    boost::system::error_code cancelled;
    co_await timer_.async_wait(boost::asio::redirect_error(use_task, cancelled));
  }

  /// Wakes every current waiter.
  void notify() { timer_.cancel(); }

private:
  timer timer_;
};

} // namespace diffplane::bench
