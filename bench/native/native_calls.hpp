#pragma once

#include "bench/native/latencies.hpp"
#include "bench/native/plan.hpp"
#include "bench/native/process_cpu.hpp"

#include <diffplane/client/client.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

// The native scenarios of native-bench: calls through a real server to a native worker
// of the same process, and the push dispatch of a job to that worker.
namespace diffplane::bench::native {

/// The service the worker serves: `echo(s) -> s`, and `mark(n) -> n`, which records
/// when job n entered the handler (steady clock, nanoseconds since its epoch).
constexpr const char* service_name = "bench";

struct handler_marks {
  explicit handler_marks(std::size_t n) : entered(n) {}
  std::vector<std::atomic<std::int64_t>> entered;
};

/// Serves the bench service on `worker` with `concurrency`; `marks` holds a slot per
/// dispatch sample.
void serve_bench(client::client& worker, unsigned concurrency,
                 std::shared_ptr<handler_marks> marks);

/// The kinds of call measured: ephemeral, durable (its result taken as posted) and
/// durable waiting for the result's commit.
enum class call_kind { ephemeral, durable, durable_committed };

/// Calls echo one at a time, then (after `between_phases`) with plan.in_flight in
/// flight, reading `probe`'s CPU over that phase; throws std::runtime_error when a call
/// fails.
figures measure_calls(client::client& caller, const run_plan& plan, call_kind kind,
                      const cpu_probe& probe,
                      const std::function<void()>& between_phases = {});

/// Push dispatch, one durable background call at a time: from its `accepted` reaching
/// the caller (the job is committed) to the worker's handler starting it. `create`
/// gets the time from sending the call to the handler, commit included.
latencies measure_dispatch(client::client& caller, const run_plan& plan,
                           handler_marks& marks, latencies& create,
                           std::size_t& handler_first);

} // namespace diffplane::bench::native
