#pragma once

#include "persistence/records.hpp"

#include <chrono>

namespace diffplane {

/// Now as epoch milliseconds, for timestamps that are stored (timers use the actor
/// clock).
inline timestamp_ms wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace diffplane
