#pragma once

#include "bench/loadgen/http_connection.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace diffplane::bench {

/// Informs of `kind` over `connections` keep-alive connections, one request at a time
/// each, `batch` resources a request. Lane L owns the ids `<prefix><L * ids_per_lane +
/// i>` (i below `ids_per_lane`, default `batch`) and walks through them in order; the
/// object of id i in round r is resource_object(i, r).
struct inform_plan {
  std::string kind = "bench";
  std::string id_prefix = "r";
  int connections = 8;
  int batch = 1;
  std::int64_t ids_per_lane = 0; ///< 0: `batch`.
  double seconds = 0;            ///< Stop sending after this long (0: no limit).
  std::int64_t requests = 0;     ///< Stop each lane after this many (0: no limit).
  /// Each request carries a new round of its objects (changed objects), or round 0
  /// always (the same objects as every other inform with changing off).
  bool change = true;
};

/// What came back: requests, resources and their outcomes, latencies of the requests.
struct inform_outcome {
  std::int64_t requests = 0;
  std::int64_t informs = 0;
  std::int64_t scheduled = 0;
  std::int64_t coalesced = 0;
  std::int64_t unchanged = 0;
  std::int64_t stale = 0;
  std::int64_t errors = 0;
  std::string first_error;
  double seconds = 0;
  std::vector<double> latencies_ms;
};

/// The object informed for id number `index` in round `round`: about 100 bytes of JSON.
std::string resource_object(std::int64_t index, std::int64_t round);

/// Sends the informs and waits for every answer.
inform_outcome inform_resources(const server_address& address, const inform_plan& plan);

/// Prints `outcome` as `<label>_<figure>=<value>` lines.
void print_informs(std::ostream& out, const std::string& label, inform_outcome& outcome);

} // namespace diffplane::bench
