#pragma once

#include "bench/loadgen/dispatch_tracker.hpp"
#include "bench/loadgen/http_connection.hpp"
#include "bench/loadgen/options.hpp"
#include "bench/loadgen/run_metrics.hpp"

#include <chrono>

namespace diffplane::bench {

/// Long-poll ttl loadgen asks for: the contract's minimum, so an idle poll ends quickly.
constexpr std::chrono::milliseconds poll_ttl{5000};

/// Deadline for one exchange: a long-poll's ttl plus generous room for a loaded server.
constexpr std::chrono::milliseconds exchange_timeout =
    poll_ttl + std::chrono::seconds{25};

/// Pause after a failed exchange, so a broken server is not hammered in a tight loop.
constexpr std::chrono::milliseconds error_backoff{100};

/// What every caller and worker of one run shares; outlives all of them.
struct run_context {
  const loadgen_options& options;
  const server_address& address;
  run_metrics& metrics;
  dispatch_tracker& dispatches;
};

} // namespace diffplane::bench
