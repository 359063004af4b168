#pragma once

#include "config/server_options.hpp"

namespace CLI {
class App;
}

namespace diffplane::config {

/// Adds every server option to the `serve` subcommand of `root` as a flag with its
/// environment variable, and `--config FILE` (TOML, keys as the long flags); values land
/// in `options`. Precedence: defaults < config file < environment < flags.
void add_server_options(CLI::App& root, CLI::App& serve, server_options& options);

} // namespace diffplane::config
