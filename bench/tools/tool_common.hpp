#pragma once

#include "bench/loadgen/http_connection.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace diffplane::bench {

/// `http://HOST:PORT` resolved, with `authorization` as the whole Authorization value.
server_address resolve_address(const std::string& endpoint,
                               const std::string& authorization);

/// Raises the soft limit of open files to the hard limit; returns the new soft limit.
std::uint64_t raise_fd_limit();

/// VmRSS (KiB) and Threads of a process from /proc/<pid>/status; -1 when unreadable.
struct proc_figures {
  long rss_kib = -1;
  long threads = -1;
};
proc_figures read_proc_status(int pid);

/// The value of an unlabelled metric in the server's Prometheus text (`GET /metrics` on
/// its --metrics-listen address); nothing when unreachable or absent.
std::optional<double> metric_value(const server_address& metrics,
                                   const std::string& name);

/// Milliseconds since the epoch, to line up with the server's log timestamps.
std::int64_t epoch_ms();

/// The q-quantile (0..1) of `values`, which it sorts; 0 for an empty list.
double quantile(std::vector<double>& values, double q);

} // namespace diffplane::bench
