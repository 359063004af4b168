#pragma once

#include "bench/loadgen/http_connection.hpp"
#include "bench/tools/resource_informs.hpp"

#include <cstdint>
#include <ostream>
#include <string>

namespace diffplane::bench {

/// Worked resources: `count` resources of `kind` informed in batches of `batch`
/// (round 0 of ids `<prefix>0..count-1`, see inform_plan), worked by `controllers`
/// trivial controllers, each a connection that long-polls the kind's `work` jobs (service
/// `resources.<kind>`, `limit` a poll) and posts `{"action":"synced"}` for each, one
/// result at a time, as an SDK worker would.
struct work_plan {
  std::string kind = "bench_work";
  std::string id_prefix = "w";
  std::int64_t count = 10000;
  int batch = 1000; ///< Resources an inform request carries.
  int controllers = 8;
  int limit = 100;
  int timeout_seconds = 120; ///< Give up when not all are synced by then.
};

/// Starts the controllers, informs the resources, and waits until GET /resources-counts
/// shows every one synced; prints the figures. Returns the exit code: 0 when all were
/// synced in time without errors, 1 otherwise.
int work_resources(const server_address& address, const work_plan& plan,
                   std::ostream& out);

/// The inform_plan that informs the resources of `plan` once (round 0).
inform_plan informs_of(const work_plan& plan);

} // namespace diffplane::bench
