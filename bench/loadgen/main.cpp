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

namespace {

using namespace diffplane::bench;

// Exit codes: 0 figures printed, 1 the run measured nothing (or failed unexpectedly),
// 2 bad flags or a server that cannot be used.
int run(loadgen_options options) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver{io};
  boost::system::error_code error;
  const auto endpoints = resolver.resolve(options.host, options.port, error);
  if (error)
    throw setup_error("cannot resolve " + options.host + ": " + error.message());
  const std::string host = options.host + ":" + options.port;

  check_live({endpoints, host, {}}, options.endpoint);
  if (options.api_secret.empty())
    options.api_secret =
        create_bench_cluster({endpoints, host, "Basic " + options.management_secret});

  const server_address address{endpoints, host, "Basic " + options.api_secret};
  const auto figures = run_load(options, address);
  if (options.json)
    std::cout << to_json(options, figures).dump(2) << '\n';
  else
    print_table(std::cout, options, figures);
  if (figures.jobs_completed == 0) {
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
