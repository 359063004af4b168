#pragma once

#include "bench/loadgen/dispatch_tracker.hpp"
#include "bench/loadgen/http_connection.hpp"
#include "bench/loadgen/options.hpp"
#include "bench/loadgen/run_metrics.hpp"

#include <chrono>
#include <cstddef>
#include <numeric>
#include <vector>

namespace diffplane::bench {

/// Long-poll ttl loadgen asks for: the contract's minimum, so an idle poll ends quickly.
constexpr std::chrono::milliseconds poll_ttl{5000};

/// Deadline for one exchange: a long-poll's ttl plus generous room for a loaded server.
constexpr std::chrono::milliseconds exchange_timeout =
    poll_ttl + std::chrono::seconds{25};

/// Pause after a failed exchange, so a broken server is not hammered in a tight loop.
constexpr std::chrono::milliseconds error_backoff{100};

/// Where each caller and worker sends its requests: one server address per endpoint and
/// cluster, `addresses[endpoint * clusters + cluster]`.
struct load_targets {
  std::vector<server_address> addresses;
  std::size_t endpoints = 1;
  std::size_t clusters = 1;

  /// The address of caller (or worker) `index`: endpoint index mod E, cluster
  /// (index + index / lcm(E, K)) mod K. Consecutive indexes thus cover every endpoint
  /// and every cluster, and the first E x K indexes every pair of them (by the Chinese
  /// remainder theorem, each block of lcm(E, K) indexes meets a new set of pairs).
  const server_address& at(int index) const {
    const auto i = static_cast<std::size_t>(index);
    const auto endpoint = i % endpoints;
    const auto cluster = (i + i / std::lcm(endpoints, clusters)) % clusters;
    return addresses[endpoint * clusters + cluster];
  }
};

/// What every caller and worker of one run shares; outlives all of them.
struct run_context {
  const loadgen_options& options;
  const load_targets& targets;
  run_metrics& metrics;
  dispatch_tracker& dispatches;
};

} // namespace diffplane::bench
