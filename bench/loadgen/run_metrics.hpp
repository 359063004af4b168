#pragma once

#include "bench/loadgen/http_connection.hpp"
#include "bench/loadgen/latency_histogram.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace diffplane::bench {

using steady_time = std::chrono::steady_clock::time_point;

/// The measured part of a run: after the warm-up, until the end.
struct run_window {
  steady_time measure_from;
  steady_time measure_until;

  /// True when `t` falls inside the measured part.
  bool contains(steady_time t) const { return t >= measure_from && t <= measure_until; }
};

/// How a caller saw one of its jobs end.
enum class job_outcome { resolved, wrong_result, failed };

/// One kind of error: how often, and the first answer body for diagnosis.
struct error_tally {
  std::uint64_t count = 0;
  std::string first_detail;
};

/// Everything counted during a run, copied out at the end.
struct metrics_snapshot {
  std::uint64_t jobs_created = 0;   ///< 201s whose create was sent in the window.
  std::uint64_t jobs_completed = 0; ///< Correct results seen in the window.
  std::uint64_t jobs_failed = 0;    ///< `failure` statuses seen in the window.
  std::uint64_t results_posted = 0; ///< 204s to result posts answered in the window.
  std::uint64_t worker_polls = 0;
  std::uint64_t worker_polls_empty = 0;
  std::uint64_t jobs_received = 0; ///< Jobs handed to workers in the window.
  std::uint64_t status_polls = 0;
  std::uint64_t status_ids_sent = 0;
  std::uint64_t dispatched_before_ack =
      0; ///< Jobs a worker held before their 201 arrived.
  latency_histogram create_to_result;
  latency_histogram dispatch;
  latency_histogram create;
  latency_histogram result_post;
  std::map<std::string, error_tally> errors; ///< Over the whole run, warm-up included.
  // Filled in by run_load: loadgen shares the machine's cores with the server and
  // Postgres, so its own cost belongs next to the figures.
  double run_seconds = 0;         ///< Wall time of the whole run, warm-up included.
  double loadgen_cpu_seconds = 0; ///< CPU loadgen used (user + system) in that time.
};

/// Counters and latency histograms shared by every caller and worker (thread-safe).
class run_metrics {
public:
  explicit run_metrics(run_window window) : window_(window) {}

  /// A create sent at `sent` was answered 201 at `acked`.
  void record_create(steady_time sent, steady_time acked);

  /// A caller saw the end of a job it created at `sent`.
  void record_outcome(steady_time sent, steady_time seen, job_outcome outcome);

  /// A worker received at `dispatched` a job whose create was acknowledged at `acked`.
  void record_dispatch(steady_time acked, steady_time dispatched);

  /// A result post sent at `sent` was answered 204 at `answered`.
  void record_result_post(steady_time sent, steady_time answered);

  /// A worker poll answered at `answered` with `jobs` jobs.
  void record_worker_poll(steady_time answered, std::size_t jobs);

  /// A batch status poll for `ids` ids was answered at `answered`.
  void record_status_poll(steady_time answered, std::size_t ids);

  /// An exchange on `route` failed or got an unexpected status.
  void record_error(std::string_view route, const http_answer& answer);

  /// A problem that is not an HTTP answer, e.g. a body loadgen could not parse.
  void record_error(std::string_view what, std::string_view detail);

  /// A copy of everything counted so far.
  metrics_snapshot snapshot() const;

  /// The measured part of the run.
  const run_window& window() const { return window_; }

private:
  const run_window window_;
  mutable std::mutex mutex_;
  metrics_snapshot data_;
};

} // namespace diffplane::bench
