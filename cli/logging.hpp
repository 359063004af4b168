#pragma once

#include <string>

namespace diffplane::cli {

/// Sends logs to stderr at `level`, as text lines or one JSON object per line.
void configure_logging(const std::string& level, const std::string& format);

} // namespace diffplane::cli
