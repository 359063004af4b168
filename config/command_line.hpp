#pragma once

#include "config/server_options.hpp"

namespace CLI {
class App;
}

namespace diffplane::config {

/// Adds every server option to `app` as a flag with its environment variable, plus
/// `--config FILE` (TOML); values land in `options`.
void add_server_options(CLI::App& app, server_options& options);

/// Makes `app` read its config file so that environment variables beat file values
/// (CLI11 alone lets the file win), giving defaults < file < environment < flags.
void let_environment_override_config_file(CLI::App& app);

} // namespace diffplane::config
