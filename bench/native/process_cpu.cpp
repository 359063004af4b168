#include "bench/native/process_cpu.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace diffplane::bench::native {
namespace {

/// The fields of /proc/<pid>/stat after the command name (which may hold spaces), so
/// that [0] is field 3 (state); empty when the process is gone.
std::vector<long long> stat_fields(const std::string& path) {
  std::ifstream in{path};
  std::string line;
  if (!std::getline(in, line))
    return {};
  auto close = line.rfind(')');
  if (close == std::string::npos)
    return {};
  std::istringstream rest{line.substr(close + 2)};
  std::string state;
  rest >> state;
  std::vector<long long> fields{0};
  long long value = 0;
  while (rest >> value)
    fields.push_back(value);
  return fields;
}

double ticks_per_second() {
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return ticks;
}

// Field numbers as proc(5) counts them, shifted to stat_fields' [0] = field 3.
constexpr std::size_t ppid = 4 - 3;
constexpr std::size_t utime = 14 - 3;
constexpr std::size_t cstime = 17 - 3;

double process_seconds(int pid, bool with_reaped_children) {
  auto f = stat_fields("/proc/" + std::to_string(pid) + "/stat");
  if (f.size() <= cstime)
    return -1;
  auto ticks = f[utime] + f[utime + 1];
  if (with_reaped_children)
    ticks += f[utime + 2] + f[utime + 3];
  return static_cast<double>(ticks) / ticks_per_second();
}

/// The postmaster with the backends it reaped and every live child: a backend that ends
/// between two readings moves from one sum into the other, so differences stay right.
double postgres_seconds(int postmaster) {
  auto total = process_seconds(postmaster, true);
  if (total < 0)
    return -1;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator{"/proc", ec}) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    auto f = stat_fields(entry.path().string() + "/stat");
    if (f.size() > cstime && f[ppid] == postmaster)
      total += static_cast<double>(f[utime] + f[utime + 1]) / ticks_per_second();
  }
  return total;
}

} // namespace

cpu_reading read_cpu(const cpu_probe& probe) {
  cpu_reading reading;
  if (probe.server_pid > 0)
    reading.server = process_seconds(probe.server_pid, false);
  if (probe.postgres_pid > 0)
    reading.postgres = postgres_seconds(probe.postgres_pid);
  return reading;
}

} // namespace diffplane::bench::native
