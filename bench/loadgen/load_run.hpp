#pragma once

#include "bench/loadgen/http_connection.hpp"
#include "bench/loadgen/options.hpp"
#include "bench/loadgen/run_context.hpp"
#include "bench/loadgen/run_metrics.hpp"

namespace diffplane::bench {

/// Runs the callers and workers against `targets` for warm-up plus duration, then stops
/// them and returns what was measured.
metrics_snapshot run_load(const loadgen_options& options, const load_targets& targets);

} // namespace diffplane::bench
