#include "bench/loadgen/load_run.hpp"

#include "bench/loadgen/baseline_lane.hpp"
#include "bench/loadgen/caller.hpp"
#include "bench/loadgen/dispatch_tracker.hpp"
#include "bench/loadgen/run_context.hpp"
#include "bench/loadgen/worker.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/resource.h>

#include <memory>
#include <thread>
#include <vector>

namespace diffplane::bench {

namespace asio = boost::asio;
using steady_clock = std::chrono::steady_clock;

namespace {

// After the end, loops close their connections and finish at once; this bound only
// matters if one does not, so that a run always ends and reports.
constexpr std::chrono::seconds shutdown_grace{10};

steady_clock::duration seconds(double value) {
  return std::chrono::duration_cast<steady_clock::duration>(
      std::chrono::duration<double>(value));
}

double cpu_seconds_so_far() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

} // namespace

metrics_snapshot run_load(const loadgen_options& options, const load_targets& targets) {
  // Declared first, destroyed last: callers and workers still referenced by suspended
  // coroutines are released while it shuts down.
  asio::io_context io{options.threads};

  const auto cpu_at_start = cpu_seconds_so_far();
  const auto start = steady_clock::now();
  const run_window window{start + seconds(options.warmup_seconds),
                          start +
                              seconds(options.warmup_seconds + options.duration_seconds)};
  run_metrics metrics{window};
  dispatch_tracker dispatches{metrics};
  const run_context context{options, targets, metrics, dispatches};

  std::vector<std::shared_ptr<worker>> workers;
  std::vector<std::shared_ptr<caller>> callers;
  std::vector<std::shared_ptr<baseline_lane>> baseline;
  if (options.baseline) {
    for (int i = 0; i < cycle_connections(options); ++i) {
      baseline.push_back(std::make_shared<baseline_lane>(io, context, i));
      baseline.back()->start();
    }
  } else {
    // Workers first, so their polls are parked when the first jobs arrive.
    for (int i = 0; i < options.workers; ++i) {
      workers.push_back(std::make_shared<worker>(io, context, i));
      workers.back()->start();
    }
    for (int i = 0; i < options.callers; ++i) {
      callers.push_back(std::make_shared<caller>(io, context, i));
      callers.back()->start();
    }
  }

  asio::steady_timer end{io, window.measure_until};
  end.async_wait([&](boost::system::error_code) {
    for (auto& c : callers)
      c->stop();
    for (auto& w : workers)
      w->stop();
    for (auto& lane : baseline)
      lane->stop();
  });

  const auto bound = window.measure_until - steady_clock::now() + shutdown_grace;
  std::vector<std::thread> threads;
  for (int i = 1; i < options.threads; ++i)
    threads.emplace_back([&io, bound] { io.run_for(bound); });
  io.run_for(bound);
  for (auto& thread : threads)
    thread.join();
  io.stop();
  auto figures = metrics.snapshot();
  figures.run_seconds =
      std::chrono::duration<double>(steady_clock::now() - start).count();
  figures.loadgen_cpu_seconds = cpu_seconds_so_far() - cpu_at_start;
  return figures;
}

} // namespace diffplane::bench
