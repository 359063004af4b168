// loadgen: drives diffplane's full job cycle (create, dispatch to a long-polling worker,
// result, batch status) and prints throughput and latency. See docs/BENCHMARKS.md.
#include "bench/loadgen/load_run.hpp"
#include "bench/loadgen/options.hpp"
#include "bench/loadgen/report.hpp"
#include "bench/loadgen/setup_calls.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <exception>
#include <iostream>
#include <vector>

namespace {

using namespace diffplane::bench;

// One address per endpoint without authorization, after checking that each is live (a
// baseline's trivial server answers 204 to everything: it is not asked).
std::vector<server_address> live_endpoints(boost::asio::io_context& io,
                                           const loadgen_options& options) {
  boost::asio::ip::tcp::resolver resolver{io};
  std::vector<server_address> servers;
  for (const auto& endpoint : options.endpoints) {
    boost::system::error_code error;
    auto resolved = resolver.resolve(endpoint.host, endpoint.port, error);
    if (error)
      throw setup_error("cannot resolve " + endpoint.host + ": " + error.message());
    servers.push_back({std::move(resolved), endpoint.host + ":" + endpoint.port, {}});
    if (!options.baseline)
      check_live(servers.back(), endpoint.url);
  }
  return servers;
}

// Exit codes: 0 figures printed, 1 the run measured nothing (or failed unexpectedly),
// 2 bad flags or a server that cannot be used.
int run(loadgen_options options) {
  boost::asio::io_context io;
  const auto servers = live_endpoints(io, options);
  if (options.baseline)
    options.api_secrets = {"baseline"};
  if (options.api_secrets.empty()) {
    auto setup = servers.front();
    setup.authorization = "Basic " + options.management_secret;
    options.api_secrets = create_bench_clusters(setup, options.clusters);
  }

  load_targets targets{{}, servers.size(), options.api_secrets.size()};
  for (const auto& server : servers)
    for (const auto& secret : options.api_secrets)
      targets.addresses.push_back({server.endpoints, server.host, "Basic " + secret});
  const auto figures = run_load(options, targets);
  if (options.json)
    std::cout << to_json(options, figures).dump(2) << '\n';
  else
    print_table(std::cout, options, figures);
  if (options.baseline && figures.jobs_created == 0) {
    std::cerr << "loadgen: the baseline server answered no request in the measured window\n";
    return 1;
  }
  if (!options.baseline && figures.jobs_completed == 0) {
    std::cerr << "loadgen: no job completed in the measured window\n";
    return 1;
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (!parsed.options)
    return parsed.exit_code;
  try {
    return run(std::move(*parsed.options));
  } catch (const setup_error& e) {
    std::cerr << "loadgen: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "loadgen: " << e.what() << '\n';
    return 1;
  }
}
