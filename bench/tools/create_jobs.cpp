#include "bench/tools/create_jobs.hpp"

#include "bench/loadgen/json_fields.hpp"
#include "bench/loadgen/payload.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>

namespace diffplane::bench {

namespace asio = boost::asio;
using boost::beast::http::verb;

namespace {

constexpr std::chrono::seconds create_timeout{60};

struct create_state {
  const create_plan& plan;
  create_outcome outcome;
  std::int64_t next = 0;
};

void note_error(create_state& state, std::string what) {
  if (state.outcome.errors++ == 0)
    state.outcome.first_error = std::move(what);
}

// One connection's loop: take the next sequence number, create, record. One io thread
// runs every lane's strand, so the shared state needs no lock.
task<void> create_lane(create_state& state, const server_address& address) {
  http_connection connection{co_await asio::this_coro::executor, address};
  while (state.next < state.plan.count) {
    const auto sequence = static_cast<std::uint64_t>(state.next++);
    auto arguments = job_arguments(sequence);
    const auto payload = arguments.size();
    const nlohmann::json body = {{"service", state.plan.service},
                                 {"targetFn", "echo"},
                                 {"targetArgs", std::move(arguments)}};
    http_call call{verb::post, "/jobs", body.dump(), {}};
    const auto answer = co_await connection.exchange(std::move(call), create_timeout);
    if (answer.error) {
      note_error(state, answer.error.message());
      continue;
    }
    if (answer.status != 201) {
      note_error(state, "status " + std::to_string(answer.status) + " " +
                            answer.body.substr(0, 200));
      continue;
    }
    ++state.outcome.created;
    state.outcome.payload_bytes += payload;
    if (state.plan.keep_ids) {
      auto id = string_field(nlohmann::json::parse(answer.body, nullptr, false), "id");
      if (id.empty())
        note_error(state, "201 without an id: " + answer.body.substr(0, 200));
      else
        state.outcome.ids.push_back(std::move(id));
    }
  }
}

} // namespace

create_outcome create_jobs(const server_address& address, const create_plan& plan) {
  asio::io_context io;
  create_state state{plan, {}, 0};
  if (plan.keep_ids)
    state.outcome.ids.reserve(static_cast<std::size_t>(plan.count));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < plan.connections; ++i)
    asio::co_spawn(asio::make_strand(io), create_lane(state, address), asio::detached);
  io.run();
  state.outcome.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::move(state.outcome);
}

} // namespace diffplane::bench
