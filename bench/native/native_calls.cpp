#include "bench/native/native_calls.hpp"

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace diffplane::bench::native {

namespace {

constexpr auto call_timeout = std::chrono::seconds{30};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             clock_type::now().time_since_epoch())
      .count();
}

client::call_options options_of(call_kind kind) {
  client::call_options options;
  options.durable = kind != call_kind::ephemeral;
  options.committed_result = kind == call_kind::durable_committed;
  return options;
}

std::string name_of(call_kind kind) {
  switch (kind) {
  case call_kind::ephemeral:
    return "ephemeral call";
  case call_kind::durable:
    return "durable call";
  case call_kind::durable_committed:
    return "durable, committed";
  }
  return "call";
}

/// Keeps `in_flight` calls outstanding: each completion submits the next until stopped.
struct call_loop : std::enable_shared_from_this<call_loop> {
  client::client& caller;
  client::bytes args;
  client::call_options options;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> answered{0};
  std::mutex mutex;
  std::condition_variable drained;
  std::size_t outstanding = 0;
  std::string first_error;

  call_loop(client::client& c, client::bytes a, client::call_options o)
      : caller(c), args(std::move(a)), options(o) {}

  void launch() {
    caller.submit(service_name, "echo", args, options,
                  [self = shared_from_this()](client::call_outcome* outcome,
                                              std::exception_ptr error) {
                    self->on_done(outcome, error);
                  });
  }

  void on_done(client::call_outcome* outcome, std::exception_ptr error) {
    bool failed = error || outcome->result_type != "resolution";
    if (failed) {
      std::lock_guard lock{mutex};
      if (first_error.empty()) {
        try {
          if (error)
            std::rethrow_exception(error);
          first_error = "a " + outcome->result_type;
        } catch (const std::exception& e) {
          first_error = e.what();
        }
      }
    }
    if (!failed && !stopping)
      ++answered;
    if (!failed && !stopping)
      return launch();
    std::lock_guard lock{mutex};
    --outstanding;
    drained.notify_all();
  }
};

} // namespace

void serve_bench(client::client& worker, unsigned concurrency,
                 std::shared_ptr<handler_marks> marks) {
  worker.serve(service_name,
               {{"echo", client::make_handler([](const std::string& s) { return s; })},
                {"mark", client::make_handler([marks](std::uint64_t n) {
                   if (n < marks->entered.size())
                     marks->entered[n] = now_ns();
                   return n;
                 })}},
               concurrency);
}

figures measure_calls(client::client& caller, const run_plan& plan, call_kind kind,
                      const cpu_probe& probe,
                      const std::function<void()>& between_phases) {
  figures out;
  out.name = name_of(kind);
  out.in_flight = plan.in_flight;
  auto args = client::pack_args(std::string(plan.payload_bytes, 'x'));
  auto options = options_of(kind);
  for (std::size_t i = 0; i < plan.warmup + plan.calls; ++i) {
    auto start = clock_type::now();
    auto call = caller.call_raw(service_name, "echo", args, options);
    if (call.wait_for(call_timeout) != std::future_status::ready)
      throw std::runtime_error(out.name + ": no answer in time");
    auto outcome = call.get();
    if (outcome.result_type != "resolution")
      throw std::runtime_error(out.name + ": a " + outcome.result_type);
    if (i >= plan.warmup)
      out.sequential.add(clock_type::now() - start);
  }
  if (between_phases)
    between_phases();
  auto loop = std::make_shared<call_loop>(caller, args, options);
  loop->outstanding = plan.in_flight;
  auto cpu_before = read_cpu(probe);
  for (std::size_t i = 0; i < plan.in_flight; ++i)
    loop->launch();
  std::this_thread::sleep_for(plan.duration);
  loop->stopping = true;
  auto answered = loop->answered.load();
  auto cpu_after = read_cpu(probe);
  auto per_call = [answered](double before, double after) {
    if (before < 0 || after < 0 || answered == 0)
      return -1.0;
    return (after - before) * 1e6 / static_cast<double>(answered);
  };
  out.server_us_per_call = per_call(cpu_before.server, cpu_after.server);
  out.postgres_us_per_call = per_call(cpu_before.postgres, cpu_after.postgres);
  std::unique_lock lock{loop->mutex};
  if (!loop->drained.wait_for(lock, call_timeout, [&] { return loop->outstanding == 0; }))
    throw std::runtime_error(out.name + ": calls in flight got no answer in time");
  if (!loop->first_error.empty())
    throw std::runtime_error(out.name + ": " + loop->first_error);
  out.calls_per_second = static_cast<double>(answered) /
                         std::chrono::duration<double>(plan.duration).count();
  return out;
}

latencies measure_dispatch(client::client& caller, const run_plan& plan,
                           handler_marks& marks, latencies& create,
                           std::size_t& handler_first) {
  latencies out;
  handler_first = 0;
  auto samples = std::min(plan.warmup + plan.calls, marks.entered.size());
  client::call_options options;
  options.background = true;
  for (std::size_t i = 0; i < samples; ++i) {
    auto acked = std::make_shared<std::promise<std::int64_t>>();
    auto acked_at = acked->get_future();
    auto sent = now_ns();
    caller.submit(service_name, "mark", client::pack_args(std::uint64_t{i}), options,
                  [acked](client::call_outcome*, std::exception_ptr error) {
                    if (error)
                      acked->set_exception(error);
                    else
                      acked->set_value(now_ns());
                  });
    if (acked_at.wait_for(call_timeout) != std::future_status::ready)
      throw std::runtime_error("dispatch: no accepted in time");
    auto ack = acked_at.get();
    auto deadline = clock_type::now() + call_timeout;
    while (marks.entered[i].load() == 0) {
      if (clock_type::now() > deadline)
        throw std::runtime_error("dispatch: the handler never ran");
      std::this_thread::yield();
    }
    if (i < plan.warmup)
      continue;
    auto entered = marks.entered[i].load();
    if (entered < ack)
      ++handler_first; // the job reached the worker before the ack reached the caller
    out.add(std::chrono::nanoseconds{std::max<std::int64_t>(0, entered - ack)});
    create.add(std::chrono::nanoseconds{entered - sent});
  }
  return out;
}

} // namespace diffplane::bench::native
