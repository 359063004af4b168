#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace diffplane::bench {

/// How the writer's connection(s) send group commits: `connections` sessions, each with
/// up to `depth` statements in flight (1: send, wait for the commit, send the next).
struct commit_mode {
  int connections = 1;
  int depth = 1;
};

/// The benchmark of `benchtool commit-pipeline` (issue 18 target 3): the server's hot
/// group-commit statement (the fenced job write: new jobs and the results of earlier
/// ones, committing on its own) sent serially, pipelined, or over two connections, in
/// a scratch cluster of `database_url`. Closed loop: each batch creates `batch_jobs`
/// jobs and records as many results of jobs created by committed batches. Offered
/// rate: jobs arrive at `rate` a second (each a create, then its result once the create
/// committed) and a batch takes whatever arrived since the last send, as the writer's
/// mailbox does. Creates in flight: as many creates wait or are in flight at any time,
/// each followed by the next once it committed (run-cycle's callers), batched likewise.
struct commit_pipeline_plan {
  std::string database_url;
  std::vector<commit_mode> modes{{1, 1}, {1, 2}, {1, 4}, {2, 1}};
  std::vector<int> batch_jobs{1, 10, 50, 200};
  std::vector<int> rates{2500, 5000, 7500};
  std::vector<int> in_flight;
  /// With creates in flight: a caller's time from an answer to its next create, and a
  /// worker's from a create's commit to its result (each drawn within half to 1.5 times).
  double think_ms = 0;
  double seconds = 8;
  double warmup_seconds = 1;
  int rounds = 1;
  /// The writer's max_batch_items: writes per commit at most.
  int max_batch_writes = 512;
};

/// Runs every (batch size or rate) x mode, modes interleaved, and prints a table row
/// for each to `out`; returns 0 when every statement committed and held its lease.
int commit_pipeline(const commit_pipeline_plan& plan, std::ostream& out);

} // namespace diffplane::bench
