#pragma once

// The CPU time the server and its Postgres spend, read from /proc, so that a throughput
// phase of native-bench can give its CPU per call (issue 14 judges a change by it: on
// a shared 2-core machine calls/s moves with the other load, CPU per call much less).
namespace diffplane::bench::native {

/// The processes to read; 0: not read.
struct cpu_probe {
  int server_pid = 0;
  /// The postmaster: its own time, its reaped children's and every live child's.
  int postgres_pid = 0;
};

/// User + system seconds so far; negative where not read.
struct cpu_reading {
  double server = -1;
  double postgres = -1;
};

cpu_reading read_cpu(const cpu_probe& probe);

} // namespace diffplane::bench::native
