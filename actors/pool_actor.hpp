#pragma once

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "actors/resources_actor.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <vector>

namespace diffplane {

/// One service of a cluster: the FIFO of pending jobs, the parked worker polls and the
/// running attempts. A job that becomes pending while a poll is parked is handed over
/// at once.
using pool_actor = caf::typed_actor<
    /// A committed pending job.
    caf::reacts_to<enqueue_atom, job_record>,
    /// Pending jobs found at a restart, oldest first: one message for all of them.
    caf::reacts_to<enqueue_atom, std::vector<job_record>>,
    /// Attempts still running that the cluster's previous owner handed over with its
    /// lease: they run on under the deadline they had.
    caf::reacts_to<adopt_atom, std::vector<job_record>>,
    /// A worker's poll; answered with up to `limit` jobs, or none when its ttl passes.
    caf::replies_to<jobs_request>::with<std::vector<dispatched_job>>,
    /// A result for one of this pool's jobs (forwarded to the job's attempt), whether
    /// the job is durable, as the cluster's index knows (the pool no longer does once the
    /// attempt ended, and a refused result of an ephemeral job writes no activity), and
    /// whether a waiter takes the result as posted (job_actor.hpp).
    caf::replies_to<job_result_post, bool, bool>::with<bool>,
    /// The machine went silent or its connection ended: its attempts stall and its
    /// parked polls are answered empty (a native worker's would take jobs for nobody).
    caf::reacts_to<machine_inactive_atom, std::string>,
    /// An attempt stalled and the job goes back to pending.
    caf::reacts_to<requeue_atom, job_record>,
    /// A job actor failed (an uncaught exception) with its job as it held it: the
    /// attempt stalls, or its failure is committed, in a new actor.
    caf::reacts_to<stall_atom, job_record, std::string>,
    /// An attempt ended for good (the job is finished).
    caf::reacts_to<job_done_atom, std::string>,
    /// Hands pending jobs to parked polls (sent to itself after a burst of enqueues).
    caf::reacts_to<dispatch_atom>, caf::reacts_to<poll_expired_atom, std::uint64_t>,
    /// Times out the attempts whose deadline passed (sent to itself once a second while
    /// attempts run).
    caf::reacts_to<check_timeouts_atom>,
    /// Answers every parked poll now, empty (shutdown).
    caf::reacts_to<release_atom>,
    /// The cluster asks whether the pool may retire: true when it holds no pending
    /// job, no running attempt and no parked poll (see cluster_pools.cpp).
    caf::replies_to<retire_atom>::with<bool>,
    /// Replaces the arguments of queued jobs (resources' newer objects; job ids, and
    /// their arguments in the same order); answers the ids not queued here.
    caf::replies_to<replace_args_atom, std::vector<std::string>,
                    std::vector<std::string>>::with<std::vector<std::string>>,
    /// Takes the given jobs out of the queue (the works of removed resources) and
    /// answers those it held; a job already dispatched runs on.
    caf::replies_to<withdraw_atom,
                    std::vector<std::string>>::with<std::vector<job_record>>,
    /// The cluster retired the pool: it stops.
    caf::reacts_to<stop_atom>>;

} // namespace diffplane

#include "actors/cluster_notifications.hpp"
#include "actors/domain_options.hpp"
#include "actors/parked_polls.hpp"
#include "actors/refusal_rows.hpp"

namespace diffplane {

/// Who a pool talks to and what it is.
struct pool_context {
  std::string cluster_id;
  std::string service;
  persistence_actor writer;
  cluster_notifications cluster;
  domain_options options;
  /// The cluster's count of parked long-polls, shared with its other pools.
  parked_polls parked;
  /// The cluster's budget of activity rows for refused results, shared likewise.
  refusal_rows refusals;
};

/// Spawns the pool of one service, linked to `parent` (its cluster).
pool_actor spawn_pool(caf::local_actor* parent, pool_context context);

} // namespace diffplane
