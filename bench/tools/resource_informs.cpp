#include "bench/tools/resource_informs.hpp"

#include "bench/loadgen/json_write.hpp"
#include "bench/tools/tool_common.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <string_view>

namespace diffplane::bench {

namespace asio = boost::asio;
using boost::beast::http::verb;
using steady_clock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::seconds inform_timeout{60};

struct inform_state {
  const inform_plan& plan;
  steady_clock::time_point deadline;
  inform_outcome outcome;
};

void note_error(inform_state& state, std::string what) {
  if (state.outcome.errors++ == 0)
    state.outcome.first_error = std::move(what);
}

/// Occurrences of `needle` in `text`.
std::int64_t count_of(std::string_view text, std::string_view needle) {
  std::int64_t n = 0;
  for (auto at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size()))
    ++n;
  return n;
}

/// Counts the outcomes of an answer; the server writes them without spaces (nlohmann).
void count_outcomes(inform_outcome& outcome, std::string_view body) {
  outcome.scheduled += count_of(body, R"("outcome":"scheduled")");
  outcome.coalesced += count_of(body, R"("outcome":"coalesced")");
  outcome.unchanged += count_of(body, R"("outcome":"unchanged")");
  outcome.stale += count_of(body, R"("outcome":"stale")");
}

// One connection's loop. One io thread runs every lane's strand, so the shared state
// needs no lock.
task<void> inform_lane(inform_state& state, const server_address& address, int lane) {
  const auto& plan = state.plan;
  const auto ids = plan.ids_per_lane > 0 ? plan.ids_per_lane : plan.batch;
  http_connection connection{co_await asio::this_coro::executor, address};
  std::int64_t next = 0; // the lane's next id number, modulo ids
  for (std::int64_t request = 0; plan.requests == 0 || request < plan.requests;
       ++request) {
    if (plan.seconds > 0 && steady_clock::now() >= state.deadline)
      break;
    const auto round = plan.change ? request + 1 : 0;
    std::string body = R"({"resources":[)";
    for (int i = 0; i < plan.batch; ++i, next = (next + 1) % ids) {
      const auto index = lane * ids + next;
      body += i == 0 ? R"({"kind":)" : R"(,{"kind":)";
      append_json_string(body, plan.kind);
      body += R"(,"id":)";
      append_json_string(body, plan.id_prefix + std::to_string(index));
      body += R"(,"object":)" + resource_object(index, round) + '}';
    }
    body += "]}";
    http_call call{verb::post, "/resources", std::move(body), {}};
    const auto sent = steady_clock::now();
    const auto answer = co_await connection.exchange(std::move(call), inform_timeout);
    const auto answered = steady_clock::now();
    if (answer.error) {
      note_error(state, answer.error.message());
      continue;
    }
    if (answer.status != 200) {
      note_error(state, "status " + std::to_string(answer.status) + " " +
                            answer.body.substr(0, 200));
      continue;
    }
    ++state.outcome.requests;
    state.outcome.informs += plan.batch;
    count_outcomes(state.outcome, answer.body);
    state.outcome.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(answered - sent).count());
  }
}

} // namespace

std::string resource_object(std::int64_t index, std::int64_t round) {
  return R"({"name":"bench resource )" + std::to_string(index) +
         R"(","email":"resource-)" + std::to_string(index) +
         R"(@bench.example","plan":"standard","round":)" + std::to_string(round) + '}';
}

inform_outcome inform_resources(const server_address& address, const inform_plan& plan) {
  asio::io_context io;
  const auto start = steady_clock::now();
  inform_state state{plan,
                     start + std::chrono::duration_cast<steady_clock::duration>(
                                 std::chrono::duration<double>(plan.seconds)),
                     {}};
  for (int lane = 0; lane < plan.connections; ++lane)
    asio::co_spawn(asio::make_strand(io), inform_lane(state, address, lane),
                   asio::detached);
  io.run();
  state.outcome.seconds =
      std::chrono::duration<double>(steady_clock::now() - start).count();
  return std::move(state.outcome);
}

void print_informs(std::ostream& out, const std::string& label, inform_outcome& outcome) {
  auto figure = [&](const char* name, auto value) {
    out << label << '_' << name << '=' << value << '\n';
  };
  auto milliseconds = [&](const char* name, double q) {
    char value[32];
    std::snprintf(value, sizeof value, "%.2f", quantile(outcome.latencies_ms, q));
    figure(name, value);
  };
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", outcome.seconds);
  figure("requests", outcome.requests);
  figure("informs", outcome.informs);
  figure("seconds", seconds);
  figure("informs_per_second",
         static_cast<long long>(
             outcome.seconds > 0 ? static_cast<double>(outcome.informs) / outcome.seconds
                                 : 0.0));
  figure("scheduled", outcome.scheduled);
  figure("coalesced", outcome.coalesced);
  figure("unchanged", outcome.unchanged);
  figure("stale", outcome.stale);
  figure("errors", outcome.errors);
  milliseconds("latency_p50_ms", 0.5);
  milliseconds("latency_p99_ms", 0.99);
  milliseconds("latency_max_ms", 1.0);
  if (outcome.errors > 0)
    figure("first_error", outcome.first_error);
}

} // namespace diffplane::bench
