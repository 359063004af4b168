#include "bench/loadgen/caller.hpp"

#include "bench/loadgen/json_scan.hpp"
#include "bench/loadgen/json_write.hpp"
#include "bench/loadgen/payload.hpp"
#include "bench/loadgen/sleep_until.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/verb.hpp>

#include <array>
#include <string_view>

namespace diffplane::bench {

namespace asio = boost::asio;
using boost::beast::http::verb;
using steady_clock = std::chrono::steady_clock;

namespace {
// Each caller numbers its calls from its own base so every job's arguments are unique.
constexpr std::uint64_t sequence_stride = std::uint64_t{1} << 32;

// What take_statuses reads of each status; the columns follow the order of the keys.
constexpr std::array<std::string_view, 4> status_keys{"id", "status", "resultType",
                                                      "result"};
enum status_column : std::size_t { id_column, state_column, type_column, result_column };
} // namespace

caller::caller(asio::io_context& io, const run_context& context, int index)
    : context_(context), index_(index), strand_(asio::make_strand(io)),
      statuses_(strand_, context.targets.at(index)), status_timer_(strand_),
      room_(strand_), work_(strand_),
      sequence_(static_cast<std::uint64_t>(index) * sequence_stride) {
  for (int i = 0; i < context.options.create_connections; ++i)
    lanes_.push_back(std::make_unique<create_lane>(strand_, context.targets.at(index)));
}

void caller::start() {
  for (std::size_t i = 0; i < lanes_.size(); ++i)
    asio::co_spawn(strand_, create_loop(shared_from_this(), i), asio::detached);
  asio::co_spawn(strand_, status_loop(shared_from_this()), asio::detached);
}

void caller::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->room_.notify();
    self->work_.notify();
    for (auto& lane : self->lanes_) {
      lane->timer.cancel();
      lane->connection.close();
    }
    self->status_timer_.cancel();
    self->statuses_.close();
  });
}

std::string create_body(std::string_view service, const std::string& arguments) {
  std::string body = R"({"service":)";
  append_json_string(body, service);
  body += R"(,"targetArgs":)";
  append_json_string(body, arguments);
  body += R"(,"targetFn":"echo"})";
  return body;
}

task<void> caller::create_loop([[maybe_unused]] std::shared_ptr<caller> self,
                               std::size_t lane_index) {
  const auto& options = context_.options;
  auto& lane = *lanes_[lane_index];
  // Open loop: this lane's share of the target rate, its first call offset so that all
  // lanes together send at an even pace rather than in bursts.
  const auto lanes = static_cast<double>(options.callers) * options.create_connections;
  const auto interval = options.open_loop()
                            ? std::chrono::duration_cast<steady_clock::duration>(
                                  std::chrono::duration<double>(lanes / options.rate))
                            : steady_clock::duration::zero();
  const auto global_lane = static_cast<double>(index_) * options.create_connections +
                           static_cast<double>(lane_index);
  auto next_send =
      steady_clock::now() + std::chrono::duration_cast<steady_clock::duration>(
                                interval * (global_lane / lanes));

  while (!stopped_) {
    while (!stopped_ &&
           unresolved_.size() + creating_ >= static_cast<std::size_t>(options.in_flight))
      co_await room_.wait();
    if (stopped_)
      break;
    if (options.open_loop()) {
      // A late schedule is not skipped: sending at once is what an open-loop client does.
      co_await sleep_until(lane.timer, next_send);
      next_send += interval;
      if (stopped_)
        break;
    }

    std::string arguments = job_arguments(sequence_++);
    http_call call{verb::post, "/jobs", create_body(options.service, arguments), {}};
    ++creating_;
    const auto sent = steady_clock::now();
    const auto answer =
        co_await lane.connection.exchange(std::move(call), exchange_timeout);
    const auto acked = steady_clock::now();
    --creating_;
    if (stopped_)
      break;
    if (answer.error || answer.status != 201) {
      context_.metrics.record_error("POST /jobs", answer);
      room_.notify();
      co_await sleep_for(lane.timer, error_backoff);
      continue;
    }
    std::string id = scan_string_field(answer.body, "id");
    if (id.empty()) {
      context_.metrics.record_error("POST /jobs -> 201 without an id", answer.body);
      room_.notify();
      continue;
    }
    context_.metrics.record_create(sent, acked);
    context_.dispatches.acknowledged(id, acked);
    unresolved_.emplace(std::move(id), unresolved_job{sent, std::move(arguments)});
    work_.notify();
  }
}

task<void> caller::status_loop([[maybe_unused]] std::shared_ptr<caller> self) {
  while (!stopped_) {
    while (!stopped_ && unresolved_.empty())
      co_await work_.wait();
    if (stopped_)
      break;

    // Like the SDK's results poller: every unresolved id in one request.
    const auto id_count = unresolved_.size();
    std::string body = R"({"jobIds":[)";
    // Only a hint: the server's ids all have one length.
    body.reserve(id_count * (unresolved_.begin()->first.size() + 3) + 32);
    for (const auto& entry : unresolved_) {
      append_json_string(body, entry.first);
      body.push_back(',');
    }
    if (body.back() == ',')
      body.pop_back();
    body += R"(],"ttl":)" + std::to_string(poll_ttl.count()) + '}';
    http_call call{verb::post, "/batch-jobs-status-request", std::move(body), {}};
    const auto answer = co_await statuses_.exchange(std::move(call), exchange_timeout);
    const auto seen = steady_clock::now();
    if (stopped_)
      break;
    if (answer.error || answer.status != 200) {
      context_.metrics.record_error("POST /batch-jobs-status-request", answer);
      co_await sleep_for(status_timer_, error_backoff);
      continue;
    }
    context_.metrics.record_status_poll(seen, id_count);
    take_statuses(answer.body, seen);
    if (context_.options.status_pause_ms > 0)
      co_await sleep_for(status_timer_,
                         std::chrono::milliseconds(context_.options.status_pause_ms));
  }
}

void caller::take_statuses(const std::string& body, steady_time seen) {
  auto statuses = scan_array_fields(body, status_keys);
  if (!statuses) {
    context_.metrics.record_error("POST /batch-jobs-status-request -> 200 not an array",
                                  body);
    return;
  }
  bool resolved_any = false;
  for (std::size_t row = 0; row < statuses->rows(); ++row) {
    const auto& state = statuses->at(row, state_column);
    if (state != "success" && state != "failure")
      continue;
    const auto it = unresolved_.find(statuses->at(row, id_column));
    if (it == unresolved_.end())
      continue;
    auto outcome = job_outcome::failed;
    if (state == "success")
      outcome = statuses->at(row, type_column) == "resolution" &&
                        statuses->at(row, result_column) == it->second.arguments
                    ? job_outcome::resolved
                    : job_outcome::wrong_result;
    context_.metrics.record_outcome(it->second.sent, seen, outcome);
    unresolved_.erase(it);
    resolved_any = true;
  }
  if (resolved_any)
    room_.notify();
}

} // namespace diffplane::bench
