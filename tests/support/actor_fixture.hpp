#pragma once

#include "actors/message_types.hpp"
#include "memory_persistence.hpp"

#include <caf/test/dsl.hpp>

namespace diffplane::testing {

/// The production message registration, so unit tests see what the server sees.
struct test_config : caf::actor_system_config {
  test_config() { register_message_types(*this); }
};

/// A deterministic actor system with an in-memory persistence actor.
struct actor_fixture : test_coordinator_fixture<test_config> {
  std::shared_ptr<memory_store> store = std::make_shared<memory_store>();
  persistence_actor db = spawn_memory_persistence(sys, store);

  /// Runs every queued message, but fires no timer: clusters sweep periodically, so
  /// the DSL's run(), which fires pending timers when idle, would never return.
  void run() { sched.run(); }

  /// Moves the clock by `d`, fires the timers now due and runs what they started.
  void advance_time(caf::timespan d) {
    sched.advance_time(d);
    run();
  }

  /// Has the in-memory store answer the writes it holds (memory_store::held_writes), as
  /// its flush: committed, or failed. The answers go out when the scheduler runs.
  void answer_held_writes(bool commit) {
    store->hold_state_writes = false;
    store->hold_job_inserts = false;
    store->commit_held = commit;
    caf::anon_send(db, flush_atom::value);
  }

  /// Moves the clock by `d` in steps of at most `step`, so that periodic timers (which
  /// re-arm from the time they fire) run as often as they would in real time.
  void advance_in_steps(caf::timespan d, caf::timespan step = std::chrono::seconds{1}) {
    while (d > step) {
      advance_time(step);
      d -= step;
    }
    advance_time(d);
  }
};

} // namespace diffplane::testing
