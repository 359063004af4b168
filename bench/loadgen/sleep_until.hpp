#pragma once

#include "bench/loadgen/executor.hpp"

#include <boost/asio/redirect_error.hpp>

namespace diffplane::bench {

/// Suspends until `when` on `waiting`; returns early, without error, when it is
/// cancelled.
inline task<void> sleep_until(timer& waiting, timer::time_point when) {
  boost::system::error_code cancelled;
  waiting.expires_at(when);
  co_await waiting.async_wait(boost::asio::redirect_error(use_task, cancelled));
}

/// Suspends for `how_long` on `waiting`; returns early when it is cancelled.
inline task<void> sleep_for(timer& waiting, timer::duration how_long) {
  return sleep_until(waiting, timer::clock_type::now() + how_long);
}

} // namespace diffplane::bench
