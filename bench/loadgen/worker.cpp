#include "bench/loadgen/worker.hpp"

#include "bench/loadgen/json_scan.hpp"
#include "bench/loadgen/json_write.hpp"
#include "bench/loadgen/payload.hpp"
#include "bench/loadgen/sleep_until.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <optional>
#include <string_view>

namespace diffplane::bench {

namespace asio = boost::asio;
using boost::beast::http::verb;
using steady_clock = std::chrono::steady_clock;

namespace {
// What take_jobs reads of each job; the columns follow the order of the keys.
constexpr std::array<std::string_view, 2> job_keys{"id", "targetArgs"};
enum job_column : std::size_t { id_column, arguments_column };
} // namespace

worker::worker(asio::io_context& io, const run_context& context, int index)
    : context_(context), machine_id_("bench-worker-" + std::to_string(index)),
      capacity_(2 * static_cast<std::size_t>(context.options.limit)),
      strand_(asio::make_strand(io)), polls_(strand_, context.targets.at(index)),
      poll_timer_(strand_), room_(strand_), ready_(strand_) {
  for (int i = 0; i < context.options.result_connections; ++i)
    results_.push_back(
        std::make_unique<http_connection>(strand_, context.targets.at(index)));
}

void worker::start() {
  asio::co_spawn(strand_, poll_loop(shared_from_this()), asio::detached);
  for (std::size_t i = 0; i < results_.size(); ++i)
    asio::co_spawn(strand_, result_loop(shared_from_this(), i), asio::detached);
}

void worker::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->room_.notify();
    self->ready_.notify();
    self->poll_timer_.cancel();
    self->polls_.close();
    for (auto& connection : self->results_)
      connection->close();
  });
}

task<void> worker::poll_loop([[maybe_unused]] std::shared_ptr<worker> self) {
  const auto limit = static_cast<std::size_t>(context_.options.limit);
  while (!stopped_) {
    // Ask again only when a whole batch fits: topping up a few freed slots at a time
    // would turn each poll into a round trip for a handful of jobs.
    while (!stopped_ && held() + limit > capacity_)
      co_await room_.wait();
    if (stopped_)
      break;

    std::string body = R"({"limit":)" + std::to_string(limit) + R"(,"service":)";
    append_json_string(body, context_.options.service);
    body += R"(,"ttl":)" + std::to_string(poll_ttl.count()) + '}';
    http_call call{verb::post, "/jobs-request", std::move(body), machine_id_};
    const auto answer = co_await polls_.exchange(std::move(call), exchange_timeout);
    const auto received = steady_clock::now();
    if (stopped_)
      break;
    if (answer.error || answer.status != 200) {
      context_.metrics.record_error("POST /jobs-request", answer);
      co_await sleep_for(poll_timer_, error_backoff);
      continue;
    }
    take_jobs(answer.body, received);
  }
}

void worker::take_jobs(const std::string& body, steady_time received) {
  auto jobs = scan_array_fields(body, job_keys);
  if (!jobs) {
    context_.metrics.record_error("POST /jobs-request -> 200 not an array", body);
    return;
  }
  // Built only when a job is bad, to report that job as the server wrote it.
  std::optional<nlohmann::json> parsed;
  for (std::size_t row = 0; row < jobs->rows(); ++row) {
    auto& id = jobs->at(row, id_column);
    if (id.empty()) {
      if (!parsed)
        parsed = nlohmann::json::parse(body, nullptr, false);
      context_.metrics.record_error("POST /jobs-request -> 200 job without an id",
                                    parsed->at(row).dump());
      continue;
    }
    context_.dispatches.dispatched(id, received);
    queue_.push_back({std::move(id), std::move(jobs->at(row, arguments_column))});
  }
  context_.metrics.record_worker_poll(received, jobs->rows());
  if (!queue_.empty())
    ready_.notify();
}

task<void> worker::result_loop([[maybe_unused]] std::shared_ptr<worker> self,
                               std::size_t connection) {
  auto& results = *results_[connection];
  while (!stopped_) {
    while (!stopped_ && queue_.empty())
      co_await ready_.wait();
    if (stopped_)
      break;

    auto job = std::move(queue_.front());
    queue_.pop_front();
    ++posting_;
    std::string body = R"({"functionExecutionTime":0,"result":)";
    append_json_string(body, job.arguments);
    body += R"(,"resultType":"resolution"})";
    http_call call{verb::post, "/jobs/" + path_segment(job.id) + "/result",
                   std::move(body), machine_id_};
    const auto sent = steady_clock::now();
    const auto answer = co_await results.exchange(std::move(call), exchange_timeout);
    const auto answered = steady_clock::now();
    --posting_;
    room_.notify();
    if (stopped_)
      break;
    if (answer.error || answer.status != 204) {
      // Not retried: the job stays running on the server and would be retried by its
      // timeout, which is exactly what a crashed SDK worker leaves behind.
      context_.metrics.record_error("POST /jobs/:id/result", answer);
      continue;
    }
    context_.metrics.record_result_post(sent, answered);
  }
}

} // namespace diffplane::bench
