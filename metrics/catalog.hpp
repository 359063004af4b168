#pragma once

#include "metrics/registry.hpp"

// Every metric diffplane exports, in one place (docs/operations.md lists them).
namespace diffplane::metrics {

struct job_metrics {
  counter& created;
  counter& dispatched;
  counter& stalled;
  counter& results_not_persisted;
  counter& succeeded_resolution;
  counter& succeeded_rejection;
  counter& failed;
  gauge& pending;
  gauge& running;
};

struct persistence_metrics {
  counter& batches;
  counter& writes;
  counter& failed_batches;
  counter& replay_transactions;
  counter& refused_writes;
  counter& cut_calls;
  histogram& batch_writes;
  histogram& commit_seconds;
};

/// diffplane_jobs_* : transitions since start, and the jobs pending and running now.
job_metrics& jobs();

/// diffplane_persistence_* : group commits, their sizes and commit latencies.
persistence_metrics& persistence();

/// diffplane_http_requests_total{route,method,code} and
/// diffplane_http_request_duration_seconds{route,method}.
struct route_metrics {
  counter* by_class[5]; // 1xx..5xx
  histogram* latency;

  void record(unsigned status, double seconds) const;
};
route_metrics make_route_metrics(const std::string& route, const std::string& method);

} // namespace diffplane::metrics
