#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

// Latency samples and throughput of one measured scenario, and how they are printed.
namespace diffplane::bench::native {

using clock_type = std::chrono::steady_clock;

/// Round trips (or dispatches) one at a time: their percentiles.
struct latencies {
  std::vector<double> ms;

  void add(clock_type::duration d) {
    ms.push_back(std::chrono::duration<double, std::milli>(d).count());
  }
  /// The `p`-th percentile (0..100) in milliseconds; 0 without samples.
  double percentile(double p) const;
};

/// What one scenario measured: latency one call at a time, and calls per second with a
/// fixed number in flight.
struct figures {
  std::string name;
  latencies sequential;
  double calls_per_second = 0;
  std::size_t in_flight = 0;
  /// CPU time per call of the throughput phase, in microseconds (negative: not read).
  double server_us_per_call = -1;
  double postgres_us_per_call = -1;
};

/// Prints the header of the rows.
void print_header();

/// Prints a row "name  p50  p90  p99  calls/s  server and Postgres CPU per call"
/// (milliseconds, microseconds).
void print_row(const figures& f);

/// The 1-minute load average of the machine, from /proc/loadavg (-1: unknown).
double load_average();

} // namespace diffplane::bench::native
