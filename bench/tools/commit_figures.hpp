#pragma once

#include "bench/tools/commit_pipeline.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

// What benchtool commit-pipeline measures of a run, and its table.
namespace diffplane::bench {

/// CPU seconds: the sessions' backends, the whole Postgres cluster, this process.
struct cpu_totals {
  double backends = 0;
  double postgres = 0;
  double client = 0;
};

/// The CPU seconds so far of the backends `backend_pids`, of their Postgres, and of this
/// process.
cpu_totals read_cpu_totals(const std::vector<int>& backend_pids);

/// pg_stat_wal's flushes so far and the milliseconds they took (timed only by the
/// sessions that could set track_wal_io_timing, a superuser's setting).
struct wal_flushes {
  std::int64_t count = 0;
  double ms = 0;
};

wal_flushes read_wal_flushes(pqxx::connection_base& admin);

/// One run's figures over its measured window.
struct run_figures {
  double seconds = 0;
  std::int64_t commits = 0;
  /// Commits of the whole run, warm-up and the last answers included.
  std::int64_t all_commits = 0;
  /// WAL flushes (pg_stat_wal.wal_sync) over the whole run, per commit.
  double flushes_per_commit = 0;
  /// Their mean duration.
  double flush_ms = 0;
  std::int64_t writes = 0;
  std::int64_t creates = 0;
  cpu_totals cpu;
  std::vector<double> latencies_ms;
  std::int64_t failures = 0;
  std::string first_failure;
};

/// The 1-minute load average.
double load_average();

void print_header(std::ostream& out);
/// One row of the table; sorts `f.latencies_ms`.
void print_row(std::ostream& out, const std::string& what, commit_mode mode, double load,
               run_figures& f);

} // namespace diffplane::bench
