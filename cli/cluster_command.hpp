#pragma once

namespace CLI {
class App;
}

namespace diffplane::cli {

/// `cluster create|list|info`; the command that runs stores its exit code in `exit_code`.
void add_cluster_commands(CLI::App& app, int& exit_code);

/// `job show ID --cluster C` and `activity CLUSTER [--job J]`.
void add_inspect_commands(CLI::App& app, int& exit_code);
/// diffplane resources list|show|invalidate (resource_commands.cpp).
void add_resource_commands(CLI::App& app, int& exit_code);

} // namespace diffplane::cli
