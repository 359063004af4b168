#pragma once

#include "cli/http_client.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace diffplane::testing {

/// Where a server_process runs; by default on 127.0.0.1 of the test's own network
/// namespace.
struct server_location {
  /// The network namespace to run in (a name of `ip netns`); empty: the test's own.
  std::string netns;
  /// The address the HTTP endpoint listens on, and the host of `endpoint()`.
  std::string host = "127.0.0.1";
};

/// A `diffplane serve` child process on a port the kernel chose, for integration tests.
/// The destructor stops it (SIGTERM, then SIGKILL).
class server_process {
public:
  /// Starts `$DIFFPLANE_BIN serve --listen <host>:0 --port-file <file> <args...>` (in
  /// the location's network namespace), reads the bound ports from the file and waits
  /// until GET /live answers 200; throws when it exits or does not become live. Pass
  /// `--metrics-listen 127.0.0.1:0` in `args` for a metrics port (of the default
  /// location). With `--tls-cert FILE` in `args` the endpoint is https and its clients
  /// trust FILE.
  explicit server_process(std::vector<std::string> args,
                          std::vector<std::string> environment = {},
                          server_location location = {});
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  const std::string& endpoint() const { return endpoint_; }
  /// The server's process id (to signal it: SIGSTOP, SIGCONT; memory measurements).
  pid_t pid() const { return pid_; }
  /// The certificate the server was given with --tls-cert; empty for plain HTTP.
  const std::string& tls_cert() const { return tls_cert_; }
  /// http://127.0.0.1:<metrics port>, or empty without --metrics-listen.
  const std::string& metrics_endpoint() const { return metrics_endpoint_; }
  /// The native protocol's port, or 0 without --native-listen.
  std::uint16_t native_port() const { return native_port_; }
  cli::http_client client(std::chrono::milliseconds timeout = std::chrono::seconds{
                              30}) const;

  /// SIGTERM and wait up to `grace`, then SIGKILL; returns the exit code (128 + 9 when
  /// it had to be killed).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds{30});
  /// SIGKILL and wait, like a crash.
  void kill();
  /// Waits up to `timeout` for the server to exit on its own; returns its exit code, or
  /// -1 when it still runs.
  int wait(std::chrono::milliseconds timeout);
  /// Everything the process wrote to stderr so far.
  std::string log() const;

private:
  pid_t pid_ = -1;
  std::string endpoint_;
  std::string metrics_endpoint_;
  std::uint16_t native_port_ = 0;
  std::string tls_cert_;
  std::string log_path_;
};

/// Runs `$DIFFPLANE_BIN <args...>` to completion; returns exit code and combined output.
struct command_result {
  int exit_code = -1;
  std::string output;
};
command_result run_diffplane(const std::vector<std::string>& args,
                             const std::vector<std::string>& environment = {},
                             std::chrono::seconds timeout = std::chrono::seconds{60});

/// A management secret that satisfies the rules.
inline const std::string test_management_secret =
    "sk_management_integration_tests_0123456789";

} // namespace diffplane::testing
