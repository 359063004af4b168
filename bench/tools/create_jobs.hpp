#pragma once

#include "bench/loadgen/http_connection.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace diffplane::bench {

/// What to create: `count` jobs of `service` over `connections` keep-alive connections,
/// one create at a time each; arguments are loadgen's small msgpack payloads.
struct create_plan {
  std::int64_t count = 0;
  int connections = 64;
  std::string service = "bench-idle";
  bool keep_ids = false; ///< Return the ids the server assigned.
};

/// What came back: ids (when asked), errors, time taken and payload bytes sent.
struct create_outcome {
  std::vector<std::string> ids;
  std::int64_t created = 0;
  std::int64_t errors = 0;
  std::string first_error;
  double seconds = 0;
  std::uint64_t payload_bytes = 0; ///< Sum of the targetArgs lengths of created jobs.
};

/// Creates the jobs with POST /jobs and waits for every answer.
create_outcome create_jobs(const server_address& address, const create_plan& plan);

} // namespace diffplane::bench
