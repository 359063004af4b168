#pragma once

#include "bench/loadgen/http_connection.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace diffplane::bench {

/// The server cannot be used for a run: unreachable, unhealthy, or refusing the setup.
struct setup_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Runs one exchange to completion on a private io_context; for calls made before the
/// load starts, where blocking is what we want.
http_answer blocking_exchange(const server_address& address, http_call call);

/// Checks that `GET /live` answers 200; throws setup_error otherwise.
void check_live(const server_address& address, const std::string& endpoint);

/// Creates a cluster described "bench" with the management secret in `address` and
/// returns its API secret; throws setup_error when the server refuses.
std::string create_bench_cluster(const server_address& address);

/// Creates `count` clusters described "bench" and returns their API secrets: those that
/// `GET /clusters` lists after the creates and did not list before them.
std::vector<std::string> create_bench_clusters(const server_address& address, int count);

} // namespace diffplane::bench
