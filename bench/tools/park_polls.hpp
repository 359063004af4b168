#pragma once

#include "bench/loadgen/http_connection.hpp"

#include <optional>
#include <ostream>

namespace diffplane::bench {

/// The long-polls to hold at once, each on its own connection, and where to look.
struct park_plan {
  int worker_polls = 5000; ///< POST /jobs-request on a service without jobs.
  int job_waits = 4000;    ///< GET /jobs/:id?ttl= of pending jobs.
  int batch_waits = 1000;  ///< POST /batch-jobs-status-request of pending jobs.
  int batch_ids = 10;      ///< Ids per batch wait.
  int ttl_ms = 20000;      ///< ttl of every poll.
  int spread_ms = 2000;    ///< Window over which the polls are sent.
  int server_pid = 0;      ///< Sampled from /proc while the polls are held (0: not).
  std::optional<server_address> metrics; ///< The server's --metrics-listen address.
};

/// Creates the pending jobs the result waits need, sends every poll, samples the server
/// while all are parked, waits for every answer and prints a table. Returns the exit
/// code: 0 when every poll got a well-formed answer, 1 otherwise.
int park_polls(const server_address& address, const park_plan& plan, std::ostream& out);

} // namespace diffplane::bench
