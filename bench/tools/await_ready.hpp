#pragma once

#include "bench/loadgen/http_connection.hpp"

#include <optional>
#include <ostream>
#include <string>

namespace diffplane::bench {

/// A server that is starting, and the worker poll that proves its jobs are dispatchable.
struct ready_plan {
  std::string service = "bench-idle";
  int limit = 100;
  int timeout_seconds = 600;
  std::optional<server_address> metrics; ///< Read diffplane_jobs_pending from here.
};

/// Polls GET /live every 5 ms until it answers 200, then sends one worker poll; prints
/// key=value lines (epoch milliseconds, jobs received, the pending gauge). 0 when the
/// poll got jobs, 1 otherwise.
int await_ready(const server_address& address, const ready_plan& plan, std::ostream& out);

} // namespace diffplane::bench
