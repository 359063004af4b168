#include "bench/tools/park_polls.hpp"

#include "bench/loadgen/json_fields.hpp"
#include "bench/loadgen/payload.hpp"
#include "bench/tools/create_jobs.hpp"
#include "bench/tools/tool_common.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <thread>

namespace diffplane::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::beast::http::verb;
using steady_clock = std::chrono::steady_clock;

namespace {

constexpr const char* idle_service = "parked-idle"; // no job ever: worker polls park
constexpr const char* jobs_service = "parked-jobs"; // no worker ever: jobs stay pending
constexpr std::chrono::milliseconds on_time_slack{2000};

enum class poll_kind { worker, job, batch };
constexpr const char* kind_names[] = {"worker polls", "job waits", "batch waits"};

struct poll_slot {
  poll_kind kind = poll_kind::worker;
  http_call call;
  std::size_t expected_ids = 0; ///< Statuses a batch answer must hold.
  double connect_ms = 0;
  steady_clock::time_point sent{}, answered{}; ///< request written, answer read
  std::string failure;                         ///< Empty when the answer was well formed.
};

struct poll_counters {
  std::atomic<int> sent{0};
  std::atomic<int> done{0};
};

bool all_pending(const nlohmann::json& statuses) {
  return std::all_of(statuses.begin(), statuses.end(), [](const auto& s) {
    return string_field(s, "status") == "pending";
  });
}

std::string check_answer(const poll_slot& slot, const http_answer& answer) {
  if (answer.error)
    return answer.error.message();
  if (answer.status != 200)
    return "status " + std::to_string(answer.status) + " " + answer.body.substr(0, 200);
  const auto body = nlohmann::json::parse(answer.body, nullptr, false);
  const bool ok =
      slot.kind == poll_kind::worker ? body.is_array() && body.empty()
      : slot.kind == poll_kind::job
          ? string_field(body, "status") == "pending"
          : body.is_array() && body.size() == slot.expected_ids && all_pending(body);
  return ok ? std::string{} : "unexpected answer " + answer.body.substr(0, 200);
}

// One poll on a connection of its own. Connecting is timed apart from the poll: the ttl
// starts when the server reads the request, so `sent` is when the request is written.
asio::awaitable<void> run_poll(poll_slot& slot, const server_address& address,
                               steady_clock::time_point send_at,
                               std::chrono::milliseconds timeout,
                               poll_counters& counters) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer{executor, send_at};
  co_await timer.async_wait(asio::use_awaitable);
  http_answer answer;
  auto token = asio::redirect_error(asio::use_awaitable, answer.error);
  beast::tcp_stream stream{executor};
  stream.expires_after(timeout);
  const auto connect_started = steady_clock::now();
  co_await stream.async_connect(address.endpoints, token);
  slot.connect_ms =
      std::chrono::duration<double, std::milli>(steady_clock::now() - connect_started)
          .count();
  if (!answer.error) {
    http::request<http::string_body> request{slot.call.method, slot.call.target, 11};
    request.set(http::field::host, address.host);
    request.set(http::field::authorization, address.authorization);
    if (!slot.call.machine_id.empty())
      request.set("x-machine-id", slot.call.machine_id);
    request.body() = std::move(slot.call.body);
    request.prepare_payload();
    // Taken before the write starts: Asio writes at once when it can, and a completion
    // handler may run late while the io thread is busy (in connect() when thousands of
    // local ports are taken).
    slot.sent = steady_clock::now();
    co_await http::async_write(stream, request, token);
  } else {
    slot.sent = steady_clock::now();
  }
  ++counters.sent;
  if (!answer.error) {
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    co_await http::async_read(stream, buffer, response, token);
    answer.status = response.result_int();
    answer.body = std::move(response.body());
  }
  slot.answered = steady_clock::now();
  slot.failure = check_answer(slot, answer);
  ++counters.done;
}

std::vector<poll_slot> make_slots(const park_plan& plan,
                                  const std::vector<std::string>& job_ids) {
  std::vector<poll_slot> slots;
  const auto ttl = std::to_string(plan.ttl_ms);
  for (int i = 0; i < plan.worker_polls; ++i) {
    poll_slot slot;
    // One machine per poll, as if each were a worker process of its own.
    slot.call = {
        verb::post,
        "/jobs-request",
        nlohmann::json{{"service", idle_service}, {"limit", 10}, {"ttl", plan.ttl_ms}}
            .dump(),
        {}};
    slots.push_back(std::move(slot));
  }
  for (int i = 0; i < plan.job_waits; ++i) {
    poll_slot slot;
    slot.kind = poll_kind::job;
    slot.call = {verb::get,
                 "/jobs/" + path_segment(job_ids[i % job_ids.size()]) + "?ttl=" + ttl,
                 {},
                 {}};
    slots.push_back(std::move(slot));
  }
  for (int i = 0; i < plan.batch_waits; ++i) {
    poll_slot slot;
    slot.kind = poll_kind::batch;
    nlohmann::json ids = nlohmann::json::array();
    for (int k = 0; k < plan.batch_ids; ++k)
      ids.push_back(
          job_ids[(static_cast<std::size_t>(i) * plan.batch_ids + k) % job_ids.size()]);
    slot.expected_ids = ids.size();
    slot.call = {verb::post,
                 "/batch-jobs-status-request",
                 nlohmann::json{{"jobIds", ids}, {"ttl", plan.ttl_ms}}.dump(),
                 {}};
    slots.push_back(std::move(slot));
  }
  // Mix the kinds, so that each is spread over the whole send window.
  std::shuffle(slots.begin(), slots.end(), std::mt19937{42});
  return slots;
}

// What the server looked like while every poll was parked.
struct held_sample {
  proc_figures proc;
  double parked_gauge = -1;
};

held_sample sample_while_held(const park_plan& plan, const poll_counters& counters,
                              int total) {
  while (counters.sent < total)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Parked means the server has read the request: wait for its gauge (at most a quarter
  // of the ttl), else give the last requests a moment.
  held_sample sample;
  const auto deadline = steady_clock::now() + std::chrono::milliseconds(plan.ttl_ms / 4);
  if (plan.metrics) {
    while (steady_clock::now() < deadline) {
      sample.parked_gauge =
          metric_value(*plan.metrics, "diffplane_parked_long_polls").value_or(-1);
      if (sample.parked_gauge >= total)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  // RSS settles while the last connections are read: keep the largest of a few samples.
  for (int i = 0; i < 5 && plan.server_pid > 0; ++i) {
    const auto now = read_proc_status(plan.server_pid);
    sample.proc.rss_kib = std::max(sample.proc.rss_kib, now.rss_kib);
    sample.proc.threads = std::max(sample.proc.threads, now.threads);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return sample;
}

std::string mib(long kib) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(kib) / 1024);
  return kib < 0 ? "-" : text;
}

struct kind_figures {
  int count = 0, on_time = 0, early = 0, late = 0, errors = 0;
  std::vector<double> elapsed_ms, connect_ms;
};

void print_row(std::ostream& out, const char* name, kind_figures& f) {
  char line[200];
  const double min = f.elapsed_ms.empty() ? 0 : quantile(f.elapsed_ms, 0);
  const double p50 = quantile(f.elapsed_ms, 0.5);
  const double max = quantile(f.elapsed_ms, 1);
  const double connect_p50 = quantile(f.connect_ms, 0.5);
  const double connect_max = quantile(f.connect_ms, 1);
  std::snprintf(
      line, sizeof line,
      "| %-12s | %6d | %7d | %5d | %4d | %6d | %.0f / %.0f / %.0f | %.1f / %.1f |\n",
      name, f.count, f.on_time, f.early, f.late, f.errors, min, p50, max, connect_p50,
      connect_max);
  out << line;
}

void print_report(std::ostream& out, const park_plan& plan, std::vector<poll_slot>& slots,
                  const held_sample& before, const held_sample& held) {
  const auto total = static_cast<long>(slots.size());
  const auto gauge = [](double value) {
    return value < 0 ? std::string{"-"} : std::to_string(static_cast<long>(value));
  };
  out << "| server | before | held |\n|---|---|---|\n"
      << "| parked polls (gauge) | " << gauge(before.parked_gauge) << " | "
      << gauge(held.parked_gauge) << " |\n| RSS | " << mib(before.proc.rss_kib) << " | "
      << mib(held.proc.rss_kib) << " |\n| threads | " << before.proc.threads << " | "
      << held.proc.threads << " |\n";
  if (before.proc.rss_kib > 0 && held.proc.rss_kib > 0 && total > 0)
    out << "| RSS per parked poll | | "
        << (held.proc.rss_kib - before.proc.rss_kib) * 1024 / total << " bytes |\n";

  kind_figures figures[4];
  const auto ttl = std::chrono::milliseconds(plan.ttl_ms);
  for (const auto& slot : slots) {
    for (auto* f : {&figures[static_cast<int>(slot.kind)], &figures[3]}) {
      ++f->count;
      const auto elapsed = slot.answered - slot.sent;
      if (!slot.failure.empty())
        ++f->errors;
      else if (elapsed < ttl)
        ++f->early;
      else if (elapsed > ttl + on_time_slack)
        ++f->late;
      else
        ++f->on_time;
      f->connect_ms.push_back(slot.connect_ms);
      if (slot.failure.empty())
        f->elapsed_ms.push_back(
            std::chrono::duration<double, std::milli>(elapsed).count());
    }
  }
  out << "\n| polls (ttl " << plan.ttl_ms
      << " ms) | count | on time | early | late | errors | answered after ms (min / p50 "
         "/ "
         "max) | connect ms (p50 / max) |\n|---|---|---|---|---|---|---|---|\n";
  for (int k = 0; k < 3; ++k)
    if (figures[k].count > 0)
      print_row(out, kind_names[k], figures[k]);
  print_row(out, "all", figures[3]);
  out << "\non time: answered between ttl and ttl + " << on_time_slack.count()
      << " ms after the request was written (connecting is timed apart).\n";
  for (const auto& slot : slots)
    if (!slot.failure.empty()) {
      out << "first error: " << slot.failure << '\n';
      break;
    }
}

} // namespace

int park_polls(const server_address& address, const park_plan& plan, std::ostream& out) {
  const int total = plan.worker_polls + plan.job_waits + plan.batch_waits;
  const auto fd_limit = raise_fd_limit();
  if (static_cast<std::uint64_t>(total) + 64 > fd_limit) {
    out << "park-polls: " << total << " connections need more than the open-file limit "
        << fd_limit << '\n';
    return 2;
  }
  std::vector<std::string> job_ids;
  if (plan.job_waits + plan.batch_waits > 0) {
    create_plan jobs{std::max(plan.job_waits, plan.batch_ids), 32, jobs_service, true};
    auto created = create_jobs(address, jobs);
    if (created.errors > 0 || created.ids.empty()) {
      out << "park-polls: creating the pending jobs failed: " << created.first_error
          << '\n';
      return 2;
    }
    job_ids = std::move(created.ids);
  }
  auto slots = make_slots(plan, job_ids);
  // x-machine-id is a view: the names live here until every poll is answered.
  std::vector<std::string> machines(slots.size());
  for (std::size_t i = 0; i < slots.size(); ++i)
    if (slots[i].kind == poll_kind::worker) {
      machines[i] = "parked-" + std::to_string(i);
      slots[i].call.machine_id = machines[i];
    }

  std::this_thread::sleep_for(std::chrono::seconds(1));
  held_sample before;
  if (plan.server_pid > 0)
    before.proc = read_proc_status(plan.server_pid);
  if (plan.metrics)
    before.parked_gauge =
        metric_value(*plan.metrics, "diffplane_parked_long_polls").value_or(-1);

  asio::io_context io;
  poll_counters counters;
  const auto start = steady_clock::now() + std::chrono::milliseconds(20);
  const auto timeout = std::chrono::milliseconds(plan.ttl_ms) + std::chrono::seconds(30);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const auto offset = std::chrono::milliseconds(
        static_cast<long>(plan.spread_ms) * static_cast<long>(i) / std::max(total, 1));
    asio::co_spawn(io, run_poll(slots[i], address, start + offset, timeout, counters),
                   asio::detached);
  }
  std::thread runner([&io] { io.run(); });
  const auto held = sample_while_held(plan, counters, total);
  runner.join();

  out << "parked long-polls: " << total << " (" << plan.worker_polls << " worker polls, "
      << plan.job_waits << " job waits, " << plan.batch_waits << " batch waits of "
      << plan.batch_ids << " ids) from one process, sent over " << plan.spread_ms
      << " ms; client open-file limit " << fd_limit << "\n\n";
  print_report(out, plan, slots, before, held);
  const bool failed = std::any_of(slots.begin(), slots.end(),
                                  [](const auto& s) { return !s.failure.empty(); });
  return failed ? 1 : 0;
}

} // namespace diffplane::bench
