#pragma once

#include <string>

namespace diffplane::bench {

/// What `benchtool http-204` is told: where to listen and on how many threads.
struct http_204_plan {
  std::string listen = "127.0.0.1:0"; ///< HOST:PORT; port 0 lets the kernel pick.
  std::string port_file;              ///< Written "http=PORT" once listening.
  int threads = 0;                    ///< 0: one per core.
};

/// Runs a trivial keep-alive HTTP/1.1 server (Beast) that answers every request 204 at
/// once, until SIGINT or SIGTERM: the baseline `bench/run-cycle --baseline` measures the
/// same load generator against, so that figures from different machines compare.
/// Returns the exit code.
int serve_http_204(const http_204_plan& plan);

} // namespace diffplane::bench
