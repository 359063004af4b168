#pragma once

#include "bench/loadgen/async_event.hpp"
#include "bench/loadgen/executor.hpp"
#include "bench/loadgen/http_connection.hpp"
#include "bench/loadgen/run_context.hpp"

#include <boost/asio/io_context.hpp>

#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace diffplane::bench {

/// One worker machine: a connection that long-polls `/jobs-request` and hands each job to
/// one of several result connections, which echo its arguments back as the result. Polls
/// go out again at once (no SDK-style 2 s pause) while at most `limit` jobs are held.
class worker : public std::enable_shared_from_this<worker> {
public:
  worker(boost::asio::io_context& io, const run_context& context, int index);

  /// Starts the poll loop and the result loops on the worker's strand.
  void start();

  /// Ends every loop and closes the connections; safe from any thread.
  void stop();

private:
  /// A job received and not yet answered.
  struct held_job {
    std::string id;
    std::string arguments;
  };

  // Each loop holds `self` so the worker lives as long as its coroutines.
  task<void> poll_loop(std::shared_ptr<worker> self);
  task<void> result_loop(std::shared_ptr<worker> self, std::size_t connection);
  void take_jobs(const std::string& body, steady_time received);
  std::size_t held() const { return queue_.size() + posting_; }

  const run_context& context_;
  const std::string machine_id_;
  const std::size_t capacity_; ///< Most jobs held at once.
  executor strand_;
  http_connection polls_;
  std::vector<std::unique_ptr<http_connection>> results_;
  timer poll_timer_;  ///< Back-off of the poll loop.
  async_event room_;  ///< A result went out: the poll loop may ask for more.
  async_event ready_; ///< Jobs arrived: the result loops have work.
  std::deque<held_job> queue_;
  std::size_t posting_ = 0; ///< Result posts in flight.
  bool stopped_ = false;
};

} // namespace diffplane::bench
