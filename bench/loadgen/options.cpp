#include "bench/loadgen/options.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <stdexcept>

namespace diffplane::bench {

namespace {

/// A flag that parsed but makes no sense; main reports it like a CLI11 error.
struct invalid_flag : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Only plain http://host:port: the server speaks no TLS, and a path would be ignored.
endpoint_url split_endpoint(const std::string& url) {
  const std::string scheme = "http://";
  std::string rest = url;
  if (rest.rfind(scheme, 0) != 0)
    throw invalid_flag("--endpoint must look like http://HOST:PORT: " + url);
  rest.erase(0, scheme.size());
  while (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size() ||
      rest.find('/') != std::string::npos)
    throw invalid_flag("--endpoint must look like http://HOST:PORT: " + url);
  endpoint_url endpoint{url, rest.substr(0, colon), rest.substr(colon + 1)};
  if (endpoint.port.find_first_not_of("0123456789") != std::string::npos)
    throw invalid_flag("--endpoint port must be a number: " + url);
  return endpoint;
}

void validate(loadgen_options& options, const std::vector<std::string>& urls,
              bool clusters_given) {
  for (const auto& url : urls)
    options.endpoints.push_back(split_endpoint(url));
  if (options.api_secrets.empty() && options.management_secret.empty() &&
      !options.baseline)
    throw invalid_flag(
        "give --api-secret (or DIFFPLANE_API_SECRET) or --management-secret");
  if (!options.api_secrets.empty()) {
    const auto given = static_cast<int>(options.api_secrets.size());
    if (clusters_given && options.clusters != given)
      throw invalid_flag("--clusters " + std::to_string(options.clusters) + " but " +
                         std::to_string(given) + " API secrets given");
    options.clusters = given;
  }
  if (options.duration_seconds <= 0)
    throw invalid_flag("--duration must be positive");
}

} // namespace

parse_outcome parse_options(int argc, char** argv) {
  loadgen_options options;
  CLI::App app{"diffplane loadgen: runs the full job cycle (create, dispatch, result, "
               "batch status) against a running diffplane and prints throughput and "
               "latency"};
  // A later flag overrides an earlier one, so wrappers such as bench/run-cycle can set
  // defaults that the user's own flags replace.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  // Several endpoints (the nodes of one control plane): repeat the flag or give a comma
  // list. The policy keeps every value, unlike the TakeLast of the other flags.
  std::vector<std::string> urls{"http://127.0.0.1:4000"};
  app.add_option("--endpoint", urls,
                 "Server base URL; several (repeated or comma-separated): callers and "
                 "workers are spread over them round-robin")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->capture_default_str();
  app.add_option("--api-secret", options.api_secrets,
                 "Cluster API secret; several (repeated or comma-separated): callers "
                 "and workers are spread over the clusters")
      ->envname("DIFFPLANE_API_SECRET")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option(
      "--management-secret", options.management_secret,
      "Create the clusters with this management secret when no API secret is given");
  auto* clusters =
      app.add_option("--clusters", options.clusters,
                     "Clusters to create through the first endpoint (without "
                     "--api-secret); callers and workers are spread over them")
          ->check(CLI::Range(1, 64))
          ->capture_default_str();
  app.add_option("--service", options.service, "Service name for jobs and polls")
      ->capture_default_str();
  app.add_option("--callers", options.callers,
                 "Caller count (each: create connections and a status connection)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--workers", options.workers,
                 "Worker count (each: a poll connection and result connections)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--limit", options.limit, "Jobs asked for per worker poll")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--in-flight", options.in_flight, "Most unresolved jobs per caller")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--create-connections", options.create_connections,
                 "Connections per caller that create jobs (one create at a time each)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--result-connections", options.result_connections,
                 "Connections per worker that post results")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--status-pause-ms", options.status_pause_ms,
                 "Pause after each batch-status answer (the SDK's poller waits 100 ms)")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  app.add_option("--rate", options.rate,
                 "Target jobs/s over all callers; 0 = closed loop")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--duration", options.duration_seconds,
                 "Measured seconds (after warm-up)")
      ->capture_default_str();
  app.add_option("--warmup", options.warmup_seconds, "Seconds of load before measuring")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--threads", options.threads, "Asio threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_flag("--json", options.json, "Print the figures as JSON instead of a table");
  app.add_flag("--baseline", options.baseline,
               "Instead of the job cycle: as many connections as the cycle would open, "
               "each sending creates one at a time to a trivial server that answers at "
               "once (benchtool http-204); prints its requests/s");

  try {
    app.parse(argc, argv);
    validate(options, urls, clusters->count() > 0);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return {std::nullopt, 0};
  } catch (const CLI::ParseError& e) {
    std::cerr << "loadgen: " << e.what() << " (see --help)\n";
    return {std::nullopt, 2};
  } catch (const invalid_flag& e) {
    std::cerr << "loadgen: " << e.what() << '\n';
    return {std::nullopt, 2};
  }
  return {std::move(options), 0};
}

} // namespace diffplane::bench
