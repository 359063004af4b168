#pragma once

namespace caf {
class actor_system_config;
} // namespace caf

namespace diffplane {

/// Makes the actor system use CAF's work-stealing scheduler with a clock that hears of
/// an actor's end only if that actor ever set a timeout.
///
/// CAF 0.17 tells its clock thread of every actor that terminates, so it can drop that
/// actor's timeouts: a queued event and a wake of the clock thread per actor. A job
/// attempt is an actor that never sets one, so at 8,000 jobs/s that was 8,000 wakes a
/// second for nothing (docs/BENCHMARKS.md, fourth round).
void use_work_stealing_scheduler(caf::actor_system_config& config);

} // namespace diffplane
