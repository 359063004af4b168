// benchtool: the client side of the issue-5 scenarios that loadgen's job cycle does not
// cover (bench/live-jobs, bench/parked-polls), and the trivial server of run-cycle's
// --baseline. See docs/BENCHMARKS.md.
#include "bench/loadgen/setup_calls.hpp"
#include "bench/tools/await_ready.hpp"
#include "bench/tools/create_jobs.hpp"
#include "bench/tools/http_204_server.hpp"
#include "bench/tools/park_polls.hpp"
#include "bench/tools/tool_common.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

namespace {

using namespace diffplane::bench;

struct common_flags {
  std::string endpoint = "http://127.0.0.1:4000";
  std::string api_secret;
  std::string metrics_endpoint;
};

void add_common(CLI::App& command, common_flags& flags) {
  command.add_option("--endpoint", flags.endpoint, "Server base URL")
      ->capture_default_str();
  command.add_option("--api-secret", flags.api_secret, "Cluster API secret")
      ->envname("DIFFPLANE_API_SECRET")
      ->required();
  command.add_option("--metrics-endpoint", flags.metrics_endpoint,
                     "The server's --metrics-listen address as http://HOST:PORT");
}

std::optional<server_address> metrics_of(const common_flags& flags) {
  if (flags.metrics_endpoint.empty())
    return std::nullopt;
  return resolve_address(flags.metrics_endpoint, {});
}

int print_created(const server_address& address, const create_plan& plan) {
  const auto outcome = create_jobs(address, plan);
  std::printf("created=%lld\nerrors=%lld\nseconds=%.3f\njobs_per_second=%.0f\n"
              "payload_bytes=%llu\n",
              static_cast<long long>(outcome.created),
              static_cast<long long>(outcome.errors), outcome.seconds,
              outcome.seconds > 0 ? static_cast<double>(outcome.created) / outcome.seconds
                                  : 0.0,
              static_cast<unsigned long long>(outcome.payload_bytes));
  if (outcome.errors > 0)
    std::cerr << "benchtool: " << outcome.errors
              << " creates failed; first: " << outcome.first_error << '\n';
  return outcome.errors == 0 && outcome.created == plan.count ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"benchtool: client side of the bench/ scenarios (see docs/BENCHMARKS.md)"};
  app.require_subcommand(1);

  std::string cluster_endpoint = "http://127.0.0.1:4000";
  std::string management_secret;
  auto* cluster =
      app.add_subcommand("create-cluster", "Create a cluster, print its API secret");
  cluster->add_option("--endpoint", cluster_endpoint, "Server base URL");
  cluster->add_option("--management-secret", management_secret)->required();

  common_flags create_flags;
  create_plan create;
  auto* creates = app.add_subcommand("create-jobs", "Create pending jobs over HTTP");
  add_common(*creates, create_flags);
  creates->add_option("--count", create.count)->required()->check(CLI::PositiveNumber);
  creates->add_option("--connections", create.connections)
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  creates->add_option("--service", create.service)->capture_default_str();

  common_flags park_flags;
  park_plan park;
  auto* parks = app.add_subcommand("park-polls", "Hold many parked long-polls at once");
  add_common(*parks, park_flags);
  parks->add_option("--worker-polls", park.worker_polls)->capture_default_str();
  parks->add_option("--job-waits", park.job_waits)->capture_default_str();
  parks->add_option("--batch-waits", park.batch_waits)->capture_default_str();
  parks->add_option("--batch-ids", park.batch_ids)
      ->capture_default_str()
      ->check(CLI::Range(1, 20000));
  parks->add_option("--ttl", park.ttl_ms)
      ->capture_default_str()
      ->check(CLI::Range(5000, 20000));
  parks->add_option("--spread-ms", park.spread_ms)->capture_default_str();
  parks->add_option("--server-pid", park.server_pid, "Sample /proc/<pid>/status");

  common_flags ready_flags;
  ready_plan ready;
  auto* readies =
      app.add_subcommand("await-ready", "Time a starting server until it dispatches");
  add_common(*readies, ready_flags);
  readies->add_option("--service", ready.service)->capture_default_str();
  readies->add_option("--limit", ready.limit)->capture_default_str();
  readies->add_option("--timeout", ready.timeout_seconds)->capture_default_str();

  http_204_plan trivial;
  auto* trivials = app.add_subcommand(
      "http-204", "Serve a trivial HTTP server answering 204 (run-cycle's --baseline)");
  trivials->add_option("--listen", trivial.listen, "HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  trivials->add_option("--port-file", trivial.port_file,
                       "Write http=PORT here once listening");
  trivials->add_option("--threads", trivial.threads, "Threads (0: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));

  CLI11_PARSE(app, argc, argv);
  try {
    if (*trivials)
      return serve_http_204(trivial);
    if (*cluster) {
      std::cout << create_bench_cluster(
                       resolve_address(cluster_endpoint, "Basic " + management_secret))
                << '\n';
      return 0;
    }
    if (*creates)
      return print_created(
          resolve_address(create_flags.endpoint, "Basic " + create_flags.api_secret),
          create);
    if (*parks) {
      park.metrics = metrics_of(park_flags);
      return park_polls(
          resolve_address(park_flags.endpoint, "Basic " + park_flags.api_secret), park,
          std::cout);
    }
    ready.metrics = metrics_of(ready_flags);
    return await_ready(
        resolve_address(ready_flags.endpoint, "Basic " + ready_flags.api_secret), ready,
        std::cout);
  } catch (const setup_error& e) {
    std::cerr << "benchtool: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "benchtool: " << e.what() << '\n';
    return 1;
  }
}
