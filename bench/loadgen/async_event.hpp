#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace diffplane::bench {

/// Wakes coroutines of one strand that wait for a condition to change; waiters re-check
/// their condition after each wake-up, so a notify with nobody waiting is simply dropped.
class async_event {
public:
  explicit async_event(boost::asio::any_io_executor executor)
      : timer_(std::move(executor)) {
    // Set once: changing the expiry later would cancel the other waiters' waits.
    timer_.expires_at(boost::asio::steady_timer::time_point::max());
  }

  /// Suspends until the next notify() (or cancellation).
  boost::asio::awaitable<void> wait() {
    boost::system::error_code cancelled;
    co_await timer_.async_wait(
        boost::asio::redirect_error(boost::asio::use_awaitable, cancelled));
  }

  /// Wakes every current waiter.
  void notify() { timer_.cancel(); }

private:
  boost::asio::steady_timer timer_;
};

} // namespace diffplane::bench
