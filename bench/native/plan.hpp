#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace diffplane::bench::native {

/// How much each scenario of native-bench measures.
struct run_plan {
  /// Round trips one at a time, after `warmup` unmeasured ones.
  std::size_t calls = 2000;
  std::size_t warmup = 200;
  /// How long each throughput phase runs, and with how many calls in flight.
  std::chrono::milliseconds duration{5000};
  std::size_t in_flight = 64;
  /// The bytes of the string each call carries there and back.
  std::size_t payload_bytes = 32;
};

} // namespace diffplane::bench::native
