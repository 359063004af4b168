#include "bench/tools/resource_controllers.hpp"

#include "bench/loadgen/json_scan.hpp"
#include "bench/loadgen/json_write.hpp"
#include "bench/loadgen/payload.hpp"
#include "bench/loadgen/sleep_until.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace diffplane::bench {

namespace asio = boost::asio;
using boost::beast::http::verb;
using steady_clock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::seconds exchange_timeout{30};
/// A poll's ttl, the shortest the server takes: a parked poll is cut short by closing
/// its connection once every resource is synced.
constexpr int poll_ttl_ms = 5000;
/// The SDK's encoding (base64 msgpack) of the result {"action":"synced"}.
constexpr std::string_view synced_result = "gaZhY3Rpb26mc3luY2Vk";
constexpr std::array<std::string_view, 1> job_keys{"id"};

struct work_state {
  explicit work_state(const work_plan& p) : plan(p) {}
  const work_plan& plan;
  bool done = false;
  std::int64_t polls = 0;
  std::int64_t results = 0;
  /// GET /resources-counts requests made.
  std::int64_t count_reads = 0;
  std::int64_t errors = 0;
  std::string first_error;
  std::int64_t synced = 0;
  steady_clock::time_point synced_at;
  /// The controllers' connections, closed when the run ends. Every coroutine of a run
  /// is on one strand, so closing them there is safe.
  std::vector<http_connection*> connections;
};

void note_error(work_state& state, std::string what) {
  if (state.errors++ == 0)
    state.first_error = std::move(what);
}

// One trivial controller: poll, post a result for each job, poll again. One io thread
// runs every strand, so the shared state needs no lock.
task<void> controller(work_state& state, const server_address& address, int index) {
  const auto machine = "bench-controller-" + std::to_string(index);
  auto executor = co_await asio::this_coro::executor;
  http_connection connection{executor, address};
  state.connections.push_back(&connection);
  timer pause{executor};
  std::string poll = R"({"limit":)" + std::to_string(state.plan.limit) + R"(,"service":)";
  append_json_string(poll, "resources." + state.plan.kind);
  poll += R"(,"ttl":)" + std::to_string(poll_ttl_ms) + '}';
  while (!state.done) {
    http_call call{verb::post, "/jobs-request", poll, machine};
    const auto answer = co_await connection.exchange(std::move(call), exchange_timeout);
    if (state.done)
      break;
    if (answer.status >= 400 && answer.status < 500) {
      // Refused: asking again cannot help.
      note_error(state, "POST /jobs-request: " + std::to_string(answer.status) + " " +
                            answer.body.substr(0, 200));
      state.done = true;
      break;
    }
    if (answer.error || answer.status != 200) {
      note_error(state,
                 "POST /jobs-request: " + (answer.error ? answer.error.message()
                                                        : std::to_string(answer.status)));
      co_await sleep_for(pause, std::chrono::milliseconds{100});
      continue;
    }
    ++state.polls;
    auto jobs = scan_array_fields(answer.body, job_keys);
    if (!jobs) {
      note_error(state,
                 "POST /jobs-request answered no array: " + answer.body.substr(0, 200));
      continue;
    }
    for (std::size_t row = 0; row < jobs->rows(); ++row) {
      std::string body = R"({"functionExecutionTime":0,"result":")";
      body += synced_result;
      body += R"(","resultType":"resolution"})";
      http_call result{verb::post, "/jobs/" + path_segment(jobs->at(row, 0)) + "/result",
                       std::move(body), machine};
      const auto posted =
          co_await connection.exchange(std::move(result), exchange_timeout);
      if (posted.error || posted.status != 204)
        note_error(state, "POST /jobs/:id/result: " +
                              (posted.error ? posted.error.message()
                                            : std::to_string(posted.status) + " " +
                                                  posted.body.substr(0, 200)));
      else
        ++state.results;
    }
  }
  std::erase(state.connections, &connection);
}

// Waits until the controllers have posted a result for every resource (counted here,
// no request), then reads GET /resources-counts every 20 ms until every resource is
// synced (or time is up). Reading the counts all along (a count over the kind's rows
// every 20 ms) was most of Postgres's CPU in this phase, which is to measure the
// product's.
task<void> watch_synced(work_state& state, const server_address& address,
                        steady_clock::time_point deadline) {
  auto executor = co_await asio::this_coro::executor;
  http_connection connection{executor, address};
  timer pause{executor};
  while (!state.done && steady_clock::now() < deadline &&
         state.results < state.plan.count)
    co_await sleep_for(pause, std::chrono::milliseconds{5});
  std::string target = "/resources-counts?kind=" + path_segment(state.plan.kind);
  while (!state.done && steady_clock::now() < deadline) {
    http_call call{verb::get, target, {}, {}};
    ++state.count_reads;
    const auto answer = co_await connection.exchange(std::move(call), exchange_timeout);
    if (!answer.error && answer.status == 200) {
      auto counts = nlohmann::json::parse(answer.body, nullptr, false);
      if (counts.contains("counts") && counts["counts"].contains("synced"))
        state.synced = counts["counts"]["synced"].get<std::int64_t>();
      if (state.synced >= state.plan.count) {
        state.synced_at = steady_clock::now();
        break;
      }
    }
    co_await sleep_for(pause, std::chrono::milliseconds{20});
  }
  state.done = true;
  for (auto* controller : state.connections)
    controller->close();
}

} // namespace

inform_plan informs_of(const work_plan& plan) {
  inform_plan informs;
  informs.kind = plan.kind;
  informs.id_prefix = plan.id_prefix;
  informs.connections = 1;
  informs.batch = static_cast<int>(std::min<std::int64_t>(plan.count, plan.batch));
  informs.ids_per_lane = plan.count;
  informs.requests = plan.count / informs.batch;
  informs.change = false;
  return informs;
}

int work_resources(const server_address& address, const work_plan& plan,
                   std::ostream& out) {
  asio::io_context io;
  work_state state{plan};
  const auto start = steady_clock::now();
  const auto strand = asio::make_strand(io);
  for (int i = 0; i < plan.controllers; ++i)
    asio::co_spawn(strand, controller(state, address, i), asio::detached);
  asio::co_spawn(
      strand,
      watch_synced(state, address, start + std::chrono::seconds{plan.timeout_seconds}),
      asio::detached);
  // The informs go on a thread of their own (their own io_context), while this one
  // works them.
  inform_outcome informed;
  std::thread informer{[&] { informed = inform_resources(address, informs_of(plan)); }};
  io.run();
  informer.join();
  const auto seconds = std::chrono::duration<double>(state.synced_at - start).count();
  const bool all = state.synced >= plan.count;
  char line[512];
  std::snprintf(line, sizeof line,
                "work_resources=%lld\nwork_controllers=%d\nwork_inform_seconds=%.3f\n"
                "work_synced=%lld\nwork_seconds=%.3f\nwork_resources_per_second=%.0f\n"
                "work_polls=%lld\nwork_results=%lld\nwork_count_reads=%lld\n"
                "work_errors=%lld\n",
                static_cast<long long>(plan.count), plan.controllers, informed.seconds,
                static_cast<long long>(state.synced), all ? seconds : 0.0,
                all && seconds > 0 ? static_cast<double>(plan.count) / seconds : 0.0,
                static_cast<long long>(state.polls),
                static_cast<long long>(state.results),
                static_cast<long long>(state.count_reads),
                static_cast<long long>(state.errors + informed.errors));
  out << line;
  if (state.errors > 0)
    out << "work_first_error=" << state.first_error << '\n';
  if (informed.errors > 0)
    out << "work_inform_first_error=" << informed.first_error << '\n';
  if (!all)
    out << "error=only " << state.synced << " of " << plan.count
        << " resources were synced within " << plan.timeout_seconds << " s\n";
  return all && state.errors == 0 && informed.errors == 0 ? 0 : 1;
}

} // namespace diffplane::bench
