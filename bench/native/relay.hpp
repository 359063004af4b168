#pragma once

#include "bench/native/latencies.hpp"
#include "bench/native/plan.hpp"

// The baseline of native-bench: what any call through a middle hop can do on this
// machine. A caller sends length-prefixed frames to a relay that forwards the bytes to a
// worker, which echoes each frame back the same way. Plain blocking sockets on loopback,
// TCP_NODELAY on every one, one thread per direction of the relay.
namespace diffplane::bench::native {

/// Measures the relay with `plan`'s frames one at a time, then with `plan.in_flight` in
/// flight; throws std::runtime_error when a socket fails.
figures measure_relay(const run_plan& plan);

} // namespace diffplane::bench::native
