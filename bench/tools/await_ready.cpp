#include "bench/tools/await_ready.hpp"

#include "bench/loadgen/setup_calls.hpp"
#include "bench/tools/tool_common.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

namespace diffplane::bench {

using boost::beast::http::verb;

int await_ready(const server_address& address, const ready_plan& plan,
                std::ostream& out) {
  const auto started = epoch_ms();
  const auto deadline = started + plan.timeout_seconds * 1000LL;
  // The server binds its port only after every cluster is loaded: until then the
  // connection is refused.
  while (blocking_exchange(address, {verb::get, "/live", {}, {}}).status != 200) {
    if (epoch_ms() > deadline) {
      out << "error=GET /live did not answer 200 within " << plan.timeout_seconds
          << " s\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto live_at = epoch_ms();
  const nlohmann::json body = {
      {"service", plan.service}, {"limit", plan.limit}, {"ttl", 5000}};
  const auto poll_started = epoch_ms();
  const auto answer = blocking_exchange(
      address, {verb::post, "/jobs-request", body.dump(), "bench-reload-worker"});
  const auto dispatched_at = epoch_ms();
  const auto jobs = nlohmann::json::parse(answer.body, nullptr, false);
  const auto received = jobs.is_array() ? jobs.size() : 0;
  out << "await_started_ms=" << started << "\nlive_at_ms=" << live_at
      << "\npoll_started_ms=" << poll_started << "\ndispatched_at_ms=" << dispatched_at
      << "\npoll_status=" << answer.status << "\njobs_received=" << received << '\n';
  if (plan.metrics)
    if (const auto pending = metric_value(*plan.metrics, "diffplane_jobs_pending"))
      out << "pending_gauge=" << static_cast<long long>(*pending) << '\n';
  return received > 0 ? 0 : 1;
}

} // namespace diffplane::bench
