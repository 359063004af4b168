#pragma once

#include "actors/messages.hpp"
#include "actors/resource_lifecycle.hpp"
#include "actors/wall_clock.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace diffplane {

/// Tunables of the domain actors, filled from config::server_options.
struct domain_options {
  /// A machine that neither polls nor posts for this long is inactive; its attempts
  /// stall.
  std::chrono::seconds machine_stall{90};
  /// How long a finished job's result stays in the cluster's memory.
  std::chrono::seconds result_linger{30};
  /// How often a cluster expires results and looks for silent machines.
  std::chrono::milliseconds sweep_interval{1000};
  /// Live jobs per page when a cluster loads (cluster_actor.cpp): it serves between
  /// pages, and its writes wait for at most one page's read.
  std::int32_t load_page_jobs = 5000;
  /// A job still live this long after its creation is moved to live_jobs at the next
  /// sweep; one that finishes sooner never is (migration 0007).
  std::chrono::milliseconds live_jobs_delay{2000};
  /// A machine's last ping is written at most this often (unless something changed).
  std::chrono::seconds machine_ping_write_interval{30};
  /// Cache entries are reloaded after a restart when they resulted within this window.
  std::chrono::hours cache_horizon{24};
  /// Most ids in one status request.
  std::size_t batch_status_max_ids = 20000;
  /// Long-polls parked at once in this process (worker polls plus result waiters).
  std::size_t max_parked_polls = 100000;
  /// Long-polls parked at once in one cluster, so that one tenant cannot take them all.
  std::size_t max_parked_polls_per_cluster = 50000;
  /// Machines a cluster holds at most; a poll from one more is refused (429).
  std::size_t max_machines_per_cluster = 10000;
  /// Services a cluster holds at most; a create or poll naming one more is refused.
  std::size_t max_services_per_cluster = 1000;
  /// Live jobs a cluster holds at most; a create beyond it is refused (429).
  std::size_t max_live_jobs_per_cluster = 1000000;
  /// Payload bytes a cluster holds at most (cluster_state::held: arguments of live jobs,
  /// results in memory); a create beyond it is refused (429). 1 GiB.
  std::uint64_t max_live_bytes_per_cluster = 1073741824;
  /// A machine silent this long is forgotten; zero: never.
  std::chrono::hours machine_retention{24};
  /// A pool with no pending, running or parked work that saw no create, dispatch,
  /// result or poll for this long is retired (its actor stops); zero: never.
  std::chrono::minutes pool_retention{60};
  /// Creates and client events sent to the writer and not yet answered, shared by every
  /// cluster of the process (copies of these options share it).
  std::shared_ptr<std::atomic<std::size_t>> writer_queue =
      std::make_shared<std::atomic<std::size_t>>(0);
  /// Most of those at once; beyond it new ones are refused at once (503) instead of
  /// queueing behind a database that does not keep up or does not answer.
  std::size_t max_writer_queue = 20000;
  /// Activity rows of refused results one cluster writes at once, and then per second
  /// (actors/refusal_rows.hpp); the refusals beyond are only counted.
  std::size_t refused_result_rows_burst = 100;
  std::size_t refused_result_rows_per_second = 10;
  /// Most jobs one worker poll may take.
  std::int32_t max_jobs_per_poll = 1000;
  /// Backoff, timeout and attempts of resource controllers.
  resources::resource_options resources;
  /// Now as epoch milliseconds, for stored times and cache ages (timers use the actor
  /// clock). A seam: unit tests tie it to the test coordinator's clock.
  std::function<timestamp_ms()> wall_clock = wall_clock_ms;
  /// A seam for unit tests only, empty in production: called as a job actor takes a
  /// result, so that a test can make the actor throw (tests/unit/job_actor_failures.cpp).
  std::function<void(const job_result_post&)> job_result_fault;
};

} // namespace diffplane
