// benchtool: the client side of the issue-5 scenarios that loadgen's job cycle does not
// cover (bench/live-jobs, bench/parked-polls), of issue 15's resources (bench/resources),
// and the trivial server of run-cycle's --baseline. See docs/BENCHMARKS.md.
#include "bench/loadgen/setup_calls.hpp"
#include "bench/tools/await_ready.hpp"
#include "bench/tools/commit_pipeline.hpp"
#include "bench/tools/create_jobs.hpp"
#include "bench/tools/http_204_server.hpp"
#include "bench/tools/node_placement.hpp"
#include "bench/tools/park_polls.hpp"
#include "bench/tools/resource_controllers.hpp"
#include "bench/tools/resource_informs.hpp"
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

  common_flags inform_flags;
  inform_plan inform;
  bool same_objects = false;
  auto* informs = app.add_subcommand(
      "inform", "Inform resources (POST /resources) for a while or a number of requests");
  add_common(*informs, inform_flags);
  informs->add_option("--kind", inform.kind)->capture_default_str();
  informs->add_option("--id-prefix", inform.id_prefix)->capture_default_str();
  informs->add_option("--connections", inform.connections)
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  informs->add_option("--batch", inform.batch, "Resources per request")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  informs->add_option("--ids-per-lane", inform.ids_per_lane,
                      "Ids each connection cycles through (default: --batch)");
  informs->add_option("--seconds", inform.seconds, "Stop after this long (0: no limit)")
      ->capture_default_str();
  informs
      ->add_option("--requests", inform.requests, "Requests per connection (0: no limit)")
      ->capture_default_str();
  informs->add_flag("--same-objects", same_objects,
                    "Inform round 0 of every object (as work-resources does), not a "
                    "changed object each request");

  common_flags work_flags;
  work_plan work;
  auto* works = app.add_subcommand(
      "work-resources", "Inform resources and time trivial controllers syncing them all");
  add_common(*works, work_flags);
  works->add_option("--kind", work.kind)->capture_default_str();
  works->add_option("--id-prefix", work.id_prefix)->capture_default_str();
  works->add_option("--count", work.count, "Resources (at most --batch or a multiple)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  works->add_option("--batch", work.batch, "Resources an inform request carries")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  works->add_option("--controllers", work.controllers)
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  works->add_option("--limit", work.limit, "Jobs a controller's poll takes")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  works->add_option("--timeout", work.timeout_seconds)->capture_default_str();

  placement_plan layout;
  std::string owners = "spread";
  auto* node_ids = app.add_subcommand(
      "node-ids", "Node ids (and an order of the clusters) under which rendezvous "
                  "hashing places the clusters so");
  node_ids->add_option("--nodes", layout.nodes)->required()->check(CLI::Range(1, 16));
  node_ids
      ->add_option("--owners", owners,
                   "spread: cluster i on node i mod N; one: every cluster on node 1")
      ->capture_default_str()
      ->check(CLI::IsMember({"spread", "one"}));
  node_ids->add_option("--cluster", layout.cluster_ids, "A cluster id (repeat)")
      ->required();
  node_ids->add_option("--first-id", layout.first_id, "Node 1's id (not picked)")
      ->capture_default_str();

  commit_pipeline_plan pipeline;
  std::vector<std::string> pipeline_modes;
  auto* pipelines = app.add_subcommand(
      "commit-pipeline", "Time the group-commit statement sent serially, pipelined "
                         "(libpq pipeline mode) or over two connections (issue 18)");
  pipelines->add_option("--database-url", pipeline.database_url)->required();
  pipelines->add_option("--mode", pipeline_modes,
                        "CONNECTIONSxDEPTH, repeat (default: 1x1 1x2 1x4 2x1)");
  pipelines->add_option("--batch-jobs", pipeline.batch_jobs,
                        "Closed loop: jobs created per batch, repeat (0: none)");
  pipelines->add_option("--rate", pipeline.rates, "Offered jobs/s, repeat (0: none)");
  pipelines->add_option("--in-flight", pipeline.in_flight,
                        "Creates in flight, each followed by the next, repeat");
  pipelines
      ->add_option("--think-ms", pipeline.think_ms,
                   "With --in-flight: from an answer to the next create or result")
      ->capture_default_str();
  pipelines->add_option("--seconds", pipeline.seconds, "Measured seconds per run")
      ->capture_default_str();
  pipelines->add_option("--warmup", pipeline.warmup_seconds)->capture_default_str();
  pipelines->add_option("--rounds", pipeline.rounds)->capture_default_str();
  pipelines->add_option("--max-batch-writes", pipeline.max_batch_writes)
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (*pipelines) {
    if (!pipeline_modes.empty()) {
      pipeline.modes.clear();
      for (const auto& m : pipeline_modes) {
        commit_mode mode;
        if (std::sscanf(m.c_str(), "%dx%d", &mode.connections, &mode.depth) != 2 ||
            mode.connections < 1 || mode.depth < 1) {
          std::cerr << "benchtool: --mode takes CONNECTIONSxDEPTH, e.g. 1x2: " << m
                    << '\n';
          return 2;
        }
        pipeline.modes.push_back(mode);
      }
    }
    std::erase(pipeline.batch_jobs, 0);
    std::erase(pipeline.rates, 0);
    std::erase(pipeline.in_flight, 0);
    try {
      return commit_pipeline(pipeline, std::cout);
    } catch (const std::exception& e) {
      std::cerr << "benchtool: " << e.what() << '\n';
      return 1;
    }
  }
  if (*node_ids) {
    layout.spread = owners == "spread";
    const auto placed = placement_for(layout);
    if (placed.node_ids.empty()) {
      std::cerr << "benchtool: no node ids within " << layout.max_tries
                << " tries place the clusters so\n";
      return 2;
    }
    for (const auto& id : placed.node_ids)
      std::cout << "node " << id << '\n';
    for (const auto& id : placed.cluster_ids)
      std::cout << "cluster " << id << '\n';
    return 0;
  }
  if (*works && work.count > work.batch && work.count % work.batch != 0) {
    std::cerr << "benchtool: --count must be at most --batch or a multiple of it\n";
    return 2;
  }
  if (*informs && inform.seconds <= 0 && inform.requests <= 0) {
    std::cerr << "benchtool: inform needs --seconds or --requests\n";
    return 2;
  }
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
    if (*informs) {
      inform.change = !same_objects;
      auto outcome = inform_resources(
          resolve_address(inform_flags.endpoint, "Basic " + inform_flags.api_secret),
          inform);
      print_informs(std::cout, "inform", outcome);
      return outcome.errors == 0 && outcome.requests > 0 ? 0 : 1;
    }
    if (*works)
      return work_resources(
          resolve_address(work_flags.endpoint, "Basic " + work_flags.api_secret), work,
          std::cout);
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
