#include "bench/tools/commit_figures.hpp"

#include "bench/native/process_cpu.hpp"
#include "bench/tools/tool_common.hpp"

#include <sys/resource.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace diffplane::bench {

namespace {

int parent_of(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string key;
  int value = 0;
  while (in >> key)
    if (key == "PPid:" && in >> value)
      return value;
  return 0;
}

std::string mode_name(commit_mode mode) {
  std::string name =
      mode.depth == 1 ? "serial" : "pipelined depth " + std::to_string(mode.depth);
  if (mode.connections > 1)
    name += ", " + std::to_string(mode.connections) + " connections";
  return name;
}

} // namespace

cpu_totals read_cpu_totals(const std::vector<int>& backend_pids) {
  cpu_totals t;
  for (int pid : backend_pids)
    t.backends += native::read_cpu({pid, 0}).server;
  // The postmaster, the backends' parent, with every process of that Postgres.
  t.postgres = native::read_cpu({0, parent_of(backend_pids.front())}).postgres;
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  t.client = static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
             static_cast<double>(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
  return t;
}

wal_flushes read_wal_flushes(pqxx::connection_base& admin) {
  auto row = pqxx::nontransaction{admin}.exec1(
      "SELECT wal_sync, wal_sync_time FROM pg_stat_wal");
  return {row[0].as<std::int64_t>(), row[1].as<double>()};
}

double load_average() {
  std::ifstream in{"/proc/loadavg"};
  double one = -1;
  in >> one;
  return one;
}

void print_row(std::ostream& out, const std::string& what, commit_mode mode, double load,
               run_figures& f) {
  const double rows = static_cast<double>(std::max<std::int64_t>(f.writes, 1));
  const double p50 = quantile(f.latencies_ms, 0.5);
  const double p99 = quantile(f.latencies_ms, 0.99);
  char line[400];
  std::snprintf(line, sizeof line,
                "| %s | %s | %.1f | %.0f | %.0f | %.0f | %.1f | %.2f x %.2f | %.1f | "
                "%.1f | %.1f | %.2f / %.2f |\n",
                what.c_str(), mode_name(mode).c_str(), load,
                static_cast<double>(f.commits) / f.seconds,
                static_cast<double>(f.writes) / f.seconds,
                static_cast<double>(f.creates) / f.seconds,
                f.commits > 0
                    ? static_cast<double>(f.writes) / static_cast<double>(f.commits)
                    : 0.0,
                f.flushes_per_commit, f.flush_ms, f.cpu.backends * 1e6 / rows,
                f.cpu.postgres * 1e6 / rows, f.cpu.client * 1e6 / rows, p50, p99);
  out << line << std::flush;
}

void print_header(std::ostream& out) {
  out << "| workload | mode | load | commits/s | rows/s | jobs/s | rows/commit | WAL "
         "flushes/commit x ms | backend µs/row | Postgres µs/row | client µs/row | "
         "latency "
         "p50 / p99 ms |\n"
         "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
}

} // namespace diffplane::bench
