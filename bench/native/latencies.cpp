#include "bench/native/latencies.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

namespace diffplane::bench::native {

double latencies::percentile(double p) const {
  if (ms.empty())
    return 0;
  auto sorted = ms;
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * sorted.size()));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size()) - 1;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(rank),
                   sorted.end());
  return sorted[rank];
}

void print_header() {
  std::printf("%-22s %8s %8s %8s %10s %12s %12s\n", "scenario", "p50", "p90", "p99",
              "calls/s", "server us", "postgres us");
}

namespace {

void print_cpu(double us) {
  if (us < 0)
    std::printf(" %12s", "-");
  else
    std::printf(" %12.1f", us);
}

} // namespace

void print_row(const figures& f) {
  std::printf("%-22s %8.3f %8.3f %8.3f %10.0f", f.name.c_str(),
              f.sequential.percentile(50), f.sequential.percentile(90),
              f.sequential.percentile(99), f.calls_per_second);
  print_cpu(f.server_us_per_call);
  print_cpu(f.postgres_us_per_call);
  std::printf("\n");
  std::fflush(stdout);
}

double load_average() {
  std::ifstream in{"/proc/loadavg"};
  double one = -1;
  in >> one;
  return one;
}

} // namespace diffplane::bench::native
