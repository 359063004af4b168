#pragma once

#include "bench/loadgen/options.hpp"
#include "bench/loadgen/run_metrics.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace diffplane::bench {

/// Writes the figures of a run as a readable table.
void print_table(std::ostream& out, const loadgen_options& options,
                 const metrics_snapshot& figures);

/// The figures of a run as JSON, latencies in milliseconds.
nlohmann::json to_json(const loadgen_options& options, const metrics_snapshot& figures);

} // namespace diffplane::bench
