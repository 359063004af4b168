#include "bench/loadgen/baseline_lane.hpp"

#include "bench/loadgen/caller.hpp"
#include "bench/loadgen/payload.hpp"
#include "bench/loadgen/sleep_until.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/verb.hpp>

namespace diffplane::bench {

namespace asio = boost::asio;
using boost::beast::http::verb;
using steady_clock = std::chrono::steady_clock;

int cycle_connections(const loadgen_options& options) {
  return options.callers * (options.create_connections + 1) +
         options.workers * (1 + options.result_connections);
}

baseline_lane::baseline_lane(asio::io_context& io, const run_context& context, int index)
    : context_(context), index_(index), strand_(asio::make_strand(io)),
      connection_(strand_, context.targets.at(index)), backoff_(strand_) {}

void baseline_lane::start() {
  asio::co_spawn(strand_, request_loop(shared_from_this()), asio::detached);
}

void baseline_lane::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->backoff_.cancel();
    self->connection_.close();
  });
}

task<void>
baseline_lane::request_loop([[maybe_unused]] std::shared_ptr<baseline_lane> self) {
  // One body for the whole run: the server does not look at it, only its size matters.
  const auto body = create_body(context_.options.service,
                                job_arguments(static_cast<std::uint64_t>(index_)));
  while (!stopped_) {
    http_call call{verb::post, "/jobs", body, {}};
    const auto sent = steady_clock::now();
    const auto answer = co_await connection_.exchange(std::move(call), exchange_timeout);
    const auto answered = steady_clock::now();
    if (stopped_)
      break;
    if (answer.error || answer.status / 100 != 2) {
      context_.metrics.record_error("POST /jobs (baseline)", answer);
      co_await sleep_for(backoff_, error_backoff);
      continue;
    }
    context_.metrics.record_create(sent, answered);
  }
}

} // namespace diffplane::bench
