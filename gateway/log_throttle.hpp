#pragma once

#include <chrono>
#include <cstddef>

namespace diffplane::gateway {

/// Lets a warning through at most once per interval and counts the ones it held back.
struct log_throttle {
  std::chrono::steady_clock::time_point last{};
  std::size_t held_back = 0;

  /// Whether to log now; `held_back` then says how many were not logged before.
  bool allow() {
    auto now = std::chrono::steady_clock::now();
    if (last != std::chrono::steady_clock::time_point{} &&
        now - last < std::chrono::seconds{10}) {
      ++held_back;
      return false;
    }
    last = now;
    return true;
  }
};

} // namespace diffplane::gateway
