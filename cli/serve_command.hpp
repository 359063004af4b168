#pragma once

#include "config/server_options.hpp"

namespace diffplane::cli {

/// Runs the server until SIGINT or SIGTERM; returns the process exit code.
int run_serve(config::server_options options);

} // namespace diffplane::cli
