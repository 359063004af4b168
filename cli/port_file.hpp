#pragma once

#include <cstdint>
#include <string>

namespace diffplane::cli {

/// Writes "http=PORT" and, when not 0, "metrics=PORT" and "native=PORT" to `path`: a
/// temporary file renamed into place, so a reader never sees half of it. Throws when
/// the file cannot be written.
void write_port_file(const std::string& path, std::uint16_t http_port,
                     std::uint16_t metrics_port, std::uint16_t native_port = 0);

} // namespace diffplane::cli
