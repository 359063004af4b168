#pragma once

#include <cstdint>

// Error values crossing actor boundaries. They live in the lowest layer so that every
// layer can name them; the gateway maps each to an HTTP status.
namespace diffplane {

enum class error_code : std::uint8_t {
  none = 0,
  bad_request,   ///< the input breaks the contract (HTTP 400)
  unauthorized,  ///< missing or unknown secret (401)
  not_found,     ///< no such cluster or job (404)
  overloaded,    ///< a configured limit is reached (503)
  limit_reached, ///< a cluster holds as much of something as it may (429)
  unavailable,   ///< the database or an actor cannot answer now (503)
  moved,         ///< the cluster is moving to another node: ask whoever serves it (503)
  unreachable,   ///< the node serving the cluster is alive but out of this one's reach
                 ///< (503)
  internal,      ///< a bug: logged, answered with 500
};

} // namespace diffplane
