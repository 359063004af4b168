#pragma once

#include "bench/loadgen/executor.hpp"
#include "bench/loadgen/http_connection.hpp"
#include "bench/loadgen/run_context.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>

namespace diffplane::bench {

/// The connections the job cycle opens with `options`: each caller's create connections
/// and status connection, each worker's poll connection and result connections.
int cycle_connections(const loadgen_options& options);

/// One connection of loadgen's `--baseline` run: it sends the cycle's create request one
/// at a time, to a trivial server that answers at once (`benchtool http-204`), so that
/// what the machine, loadgen and a bare HTTP stack can do is known and the cycle's
/// requests per second can be read as a fraction of it. A 2xx answer is recorded as a
/// create (count and latency); anything else as an error.
class baseline_lane : public std::enable_shared_from_this<baseline_lane> {
public:
  baseline_lane(boost::asio::io_context& io, const run_context& context, int index);

  /// Starts the request loop on the lane's strand.
  void start();

  /// Ends the loop and closes the connection; safe from any thread.
  void stop();

private:
  task<void> request_loop(std::shared_ptr<baseline_lane> self);

  const run_context& context_;
  const int index_;
  executor strand_;
  http_connection connection_;
  bench::timer backoff_;
  bool stopped_ = false;
};

} // namespace diffplane::bench
