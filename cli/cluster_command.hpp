#pragma once

#include <string>

namespace CLI {
class App;
}

namespace diffplane::cli {

/// Options shared by the commands that talk to a running server.
struct remote_options {
  std::string endpoint = "http://127.0.0.1:4000";
  std::string management_secret;
  std::string data_dir = ".diffplane";
  bool json = false;
};

/// Adds `cluster create` and `cluster list` to `app`; they run from run_remote_command.
void add_cluster_commands(CLI::App& app, remote_options& options, std::string& description);

/// Runs the cluster subcommand that was parsed; returns the exit code.
int run_cluster_command(const CLI::App& cluster_app, remote_options options,
                        const std::string& description);

} // namespace diffplane::cli
