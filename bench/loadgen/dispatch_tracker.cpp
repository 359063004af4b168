#include "bench/loadgen/dispatch_tracker.hpp"

namespace diffplane::bench {

void dispatch_tracker::acknowledged(const std::string& id, steady_time at) {
  steady_time dispatched_at;
  {
    std::lock_guard lock{mutex_};
    auto [it, fresh] = open_.try_emplace(id);
    if (fresh || !it->second.dispatched) {
      it->second.acked = at;
      return;
    }
    dispatched_at = *it->second.dispatched;
    open_.erase(it);
  }
  metrics_.record_dispatch(at, dispatched_at);
}

void dispatch_tracker::dispatched(const std::string& id, steady_time at) {
  steady_time acked_at;
  {
    std::lock_guard lock{mutex_};
    auto [it, fresh] = open_.try_emplace(id);
    // A second dispatch of the same job (a retry) keeps the first: dispatch latency is
    // about the first hand-over.
    if (fresh || !it->second.acked) {
      if (!it->second.dispatched)
        it->second.dispatched = at;
      return;
    }
    acked_at = *it->second.acked;
    open_.erase(it);
  }
  metrics_.record_dispatch(acked_at, at);
}

} // namespace diffplane::bench
