#pragma once

#include <cstddef>

namespace diffplane::cli {

/// Raises the soft limit of open file descriptors (RLIMIT_NOFILE) to the hard limit,
/// logs both, and returns the soft limit now in effect.
std::size_t raise_open_file_limit();

/// Descriptors kept back from the gateway's connections: Postgres connections, log
/// files, the metrics port (at most operator_connections), the runtime's own.
constexpr std::size_t descriptor_reserve = 512;
/// Connections the metrics port holds at most.
constexpr std::size_t operator_connections = 64;

/// The default --max-connections for `open_files` descriptors: all but the reserve, or
/// half when the limit is too small for a reserve.
std::size_t connections_for(std::size_t open_files);

} // namespace diffplane::cli
