#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace diffplane::bench {

/// Suspends until `when` on `timer`; returns early, without error, when it is cancelled.
inline boost::asio::awaitable<void>
sleep_until(boost::asio::steady_timer& timer,
            boost::asio::steady_timer::time_point when) {
  boost::system::error_code cancelled;
  timer.expires_at(when);
  co_await timer.async_wait(
      boost::asio::redirect_error(boost::asio::use_awaitable, cancelled));
}

/// Suspends for `how_long` on `timer`; returns early when it is cancelled.
inline boost::asio::awaitable<void>
sleep_for(boost::asio::steady_timer& timer,
          boost::asio::steady_timer::duration how_long) {
  return sleep_until(timer, boost::asio::steady_timer::clock_type::now() + how_long);
}

} // namespace diffplane::bench
