#pragma once

#include <optional>
#include <string>
#include <vector>

namespace diffplane::bench {

/// One server the load goes to, as given by an --endpoint flag.
struct endpoint_url {
  std::string url;  ///< http://HOST:PORT, as given.
  std::string host; ///< Parsed from `url`.
  std::string port; ///< Parsed from `url`.
};

/// Everything loadgen is told on its command line, validated.
struct loadgen_options {
  /// Every endpoint, at least one; callers and workers are spread over them, and setup
  /// calls (the cluster creation) go to the first.
  std::vector<endpoint_url> endpoints;
  /// The clusters to load, one API secret each; empty: create `clusters` clusters.
  std::vector<std::string> api_secrets;
  std::string management_secret;
  /// How many clusters to create (or the number of API secrets given).
  int clusters = 1;
  std::string service = "bench";
  int callers = 8;
  int workers = 4;
  int limit = 100;
  int in_flight = 100;
  int create_connections = 1;
  int result_connections = 4;
  /// Pause after each batch-status answer; the SDK's results poller waits 100 ms.
  int status_pause_ms = 100;
  double rate = 0;
  double duration_seconds = 10;
  double warmup_seconds = 2;
  int threads = 1;
  bool json = false;
  /// Instead of the job cycle, the HTTP baseline (see baseline_lane.hpp).
  bool baseline = false;

  /// True when callers follow a target rate instead of keeping `in_flight` outstanding.
  bool open_loop() const { return rate > 0; }
};

/// Parsed options, or the exit code to leave with (help printed, or a bad flag reported).
struct parse_outcome {
  std::optional<loadgen_options> options;
  int exit_code = 0;
};

/// Parses and validates the command line; reports a bad flag as one line on stderr.
parse_outcome parse_options(int argc, char** argv);

} // namespace diffplane::bench
