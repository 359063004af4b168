#pragma once

#include "bench/loadgen/async_event.hpp"
#include "bench/loadgen/executor.hpp"
#include "bench/loadgen/http_connection.hpp"
#include "bench/loadgen/run_context.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace diffplane::bench {

/// The body of `POST /jobs` calling `service`'s echo function with `arguments`.
std::string create_body(std::string_view service, const std::string& arguments);

/// One caller, like an SDK client process: create connections that keep up to
/// `in_flight` jobs unresolved (or follow a target rate), and a status connection that
/// long-polls `/batch-jobs-status-request` with all of its unresolved ids.
class caller : public std::enable_shared_from_this<caller> {
public:
  caller(boost::asio::io_context& io, const run_context& context, int index);

  /// Starts the create loops and the status loop on the caller's strand.
  void start();

  /// Ends every loop and closes the connections; safe from any thread.
  void stop();

private:
  /// A created job waiting for its result.
  struct unresolved_job {
    steady_time sent;
    std::string arguments;
  };

  /// One create connection with the timer that paces it and backs it off.
  struct create_lane {
    create_lane(const executor& strand, const server_address& address)
        : connection(strand, address), timer(strand) {}
    http_connection connection;
    bench::timer timer;
  };

  // Each loop holds `self` so the caller lives as long as its coroutines.
  task<void> create_loop(std::shared_ptr<caller> self, std::size_t lane);
  task<void> status_loop(std::shared_ptr<caller> self);
  void take_statuses(const std::string& body, steady_time seen);

  const run_context& context_;
  const int index_;
  executor strand_;
  std::vector<std::unique_ptr<create_lane>> lanes_;
  http_connection statuses_;
  timer status_timer_; ///< Paces and backs off the status loop.
  async_event room_;   ///< A job resolved: create loops may go on.
  async_event work_;   ///< A job was created: the status loop has ids.
  std::unordered_map<std::string, unresolved_job> unresolved_;
  std::size_t creating_ = 0; ///< Creates sent and not yet answered.
  std::uint64_t sequence_;
  bool stopped_ = false;
};

} // namespace diffplane::bench
