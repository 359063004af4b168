// native-bench: the native protocol's figures next to a raw TCP relay measured in the
// same run (issue 14): call round trips one at a time and calls/s with a number in
// flight, ephemeral and durable, and push dispatch. bench/native/run starts the server
// and runs it; docs/BENCHMARKS.md has the figures.
#include "bench/native/commit_totals.hpp"
#include "bench/native/native_calls.hpp"
#include "bench/native/relay.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <optional>
#include <iostream>

using namespace diffplane::bench::native;
namespace client = diffplane::client;

int main(int argc, char** argv) {
  CLI::App app{"native-bench: native calls against a raw TCP relay (docs/BENCHMARKS.md)"};
  std::string endpoint = "127.0.0.1:4001";
  std::string api_secret;
  run_plan plan;
  unsigned duration_ms = 5000;
  std::string metrics;
  cpu_probe probe;
  client::connect_options options;
  app.add_option("--native", endpoint,
                 "The server's --native-listen address (tls://host:port with --tls-cert)")
      ->capture_default_str();
  app.add_option("--tls-ca-file", options.tls_ca_file,
                 "PEM file the server's certificate is checked against (tls:// only)");
  app.add_option("--api-secret", api_secret, "The cluster's API secret")
      ->envname("DIFFERENTIAL_API_SECRET")
      ->required();
  app.add_option("--calls", plan.calls, "Measured round trips one at a time per scenario")
      ->capture_default_str();
  app.add_option("--warmup", plan.warmup, "Unmeasured round trips before those")
      ->capture_default_str();
  app.add_option("--duration-ms", duration_ms, "Length of each throughput phase")
      ->capture_default_str();
  app.add_option("--in-flight", plan.in_flight, "Calls in flight in throughput phases")
      ->capture_default_str();
  app.add_option("--payload-bytes", plan.payload_bytes, "The string each call echoes")
      ->capture_default_str();
  app.add_option("--metrics", metrics,
                 "The server's --metrics-listen address (host:port): the group commits "
                 "made during the durable round trips are printed beside them");
  app.add_option("--server-pid", probe.server_pid,
                 "The server's pid: its CPU per call in each throughput phase");
  app.add_option("--postgres-pid", probe.postgres_pid,
                 "Its Postgres's postmaster pid: the CPU per call of the postmaster and "
                 "every child of it");
  CLI11_PARSE(app, argc, argv);
  plan.duration = std::chrono::milliseconds{duration_ms};

  try {
    auto load_before = load_average();
    std::printf("native-bench: %zu round trips one at a time (ms), then %.1f s with %zu "
                "in flight (calls/s); payload %zu bytes\n",
                plan.calls, duration_ms / 1000.0, plan.in_flight, plan.payload_bytes);
    std::printf("load average (1 min) before: %.2f\n", load_before);
    std::printf("CPU per call (us) is read over each throughput phase from /proc\n");
    print_header();
    auto relay = measure_relay(plan);
    print_row(relay);

    auto marks = std::make_shared<handler_marks>(plan.warmup + plan.calls);
    auto worker = client::client::connect(endpoint, api_secret, options);
    serve_bench(*worker, static_cast<unsigned>(plan.in_flight), marks);
    auto caller = client::client::connect(endpoint, api_secret, options);
    auto ephemeral = measure_calls(*caller, plan, call_kind::ephemeral, probe);
    print_row(ephemeral);
    // The group commits of the durable round trips alone (warm-up included): each
    // round trip waits for its own, and the throughput phase's are larger and slower.
    std::optional<commit_totals> commits_before;
    std::optional<commit_totals> commits_after;
    if (!metrics.empty())
      commits_before = read_commit_totals(metrics);
    auto durable = measure_calls(*caller, plan, call_kind::durable, probe, [&] {
      if (!metrics.empty())
        commits_after = read_commit_totals(metrics);
    });
    print_row(durable);
    auto committed = measure_calls(*caller, plan, call_kind::durable_committed, probe);
    print_row(committed);
    latencies create;
    std::size_t handler_first = 0;
    figures dispatch;
    dispatch.name = "push dispatch";
    dispatch.sequential = measure_dispatch(*caller, plan, *marks, create, handler_first);
    print_row(dispatch);
    figures created;
    created.name = "call sent -> handler";
    created.sequential = create;
    print_row(created);

    auto relay_p50 = relay.sequential.percentile(50);
    std::printf("push dispatch: accepted reached the caller -> the worker's handler "
                "started (0 when the handler came first: %zu of %zu)\n",
                handler_first, dispatch.sequential.ms.size());
    std::printf("ephemeral p50 / relay p50: %.2fx; durable p50 - relay p50: %.3f ms\n",
                ephemeral.sequential.percentile(50) / relay_p50,
                durable.sequential.percentile(50) - relay_p50);
    if (commits_before && commits_after) {
      auto window = between(*commits_before, *commits_after);
      auto rounds = static_cast<double>(plan.warmup + plan.calls);
      std::printf("durable round trips: %.0f group commits (%.2f per call), mean %.3f ms; "
                  "durable p50 - relay p50 - mean commit: %.3f ms\n",
                  window.count, window.count / rounds, window.mean_ms,
                  durable.sequential.percentile(50) - relay_p50 - window.mean_ms);
    } else if (!metrics.empty()) {
      std::printf("durable round trips: the server's commit metrics could not be read\n");
    }
    std::printf("durable, committed result p50 - durable p50: %.3f ms\n",
                committed.sequential.percentile(50) - durable.sequential.percentile(50));
    std::printf("calls/s with %zu in flight: relay %.0f, ephemeral %.0f, durable %.0f, "
                "durable committed %.0f\n",
                plan.in_flight, relay.calls_per_second, ephemeral.calls_per_second,
                durable.calls_per_second, committed.calls_per_second);
    std::printf("load average (1 min) after: %.2f\n", load_average());
    caller->close();
    worker->close();
  } catch (const std::exception& e) {
    std::cerr << "native-bench: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
