#pragma once

#include "actors/atoms.hpp"
#include "actors/messages.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

namespace diffplane {

/// One running attempt of a job: the machine that holds it, what happens when it times
/// out (its pool keeps the deadline), and the only place a result for it is accepted.
/// Spawned by the pool at dispatch; when the attempt ends (result, stall back to
/// pending, or failure) it tells its pool and exits once the pool releases it, so a
/// result the pool forwarded before it heard of the end still finds the actor.
using job_actor = caf::typed_actor<
    /// Answers whether the result was accepted (false: not from the attempt's holder, or
    /// the attempt ended). A result that comes while another one's write is in flight
    /// waits for that write's outcome. The flag, set by the cluster as it routed the
    /// result, tells whether a waiter takes it as posted: only then is the cluster told
    /// of it before its write commits. A local message: the mesh carries results as
    /// every node version reads them.
    caf::replies_to<job_result_post, bool>::with<bool>,
    /// The attempt's timeout elapsed (sent by the pool; the number names the attempt).
    caf::reacts_to<job_timeout_atom, std::int32_t>,
    /// The attempt is given up, e.g. because its machine went silent; carries the reason.
    caf::reacts_to<stall_atom, std::string>,
    /// Tries again to commit the failure of a job whose attempts are spent.
    caf::reacts_to<persist_atom>,
    /// The pool forgot the attempt: nothing can reach it any more, so it exits.
    caf::reacts_to<release_atom>>;

} // namespace diffplane

#include "actors/cluster_notifications.hpp"
#include "actors/refusal_rows.hpp"

#include <functional>

namespace diffplane {

using pool_actor_fwd =
    caf::typed_actor<caf::reacts_to<requeue_atom, job_record>,
                     caf::reacts_to<job_done_atom, std::string>,
                     caf::reacts_to<stall_atom, job_record, std::string>>;

/// Who a job attempt talks to.
struct job_context {
  persistence_actor writer;
  cluster_notifications cluster;
  /// The pool that spawned the attempt (the part of its interface a job uses).
  pool_actor_fwd pool;
  /// Now as epoch milliseconds (domain_options::wall_clock).
  std::function<timestamp_ms()> wall_clock;
  /// The attempt was dispatched by the cluster's previous owner, which stored it: it
  /// is taken over, not written again.
  bool adopted = false;
  /// A seam for unit tests (domain_options::job_result_fault); empty in production.
  std::function<void(const job_result_post&)> result_fault;
  /// The cluster's budget of activity rows for refused results.
  refusal_rows refusals;
};

/// Spawns the attempt of `job` (already dispatched); `parent` is its pool. Not linked nor
/// monitored: an exception that escapes the actor's handlers ends it after it sent its
/// pool `stall_atom` with its job, so that the attempt stalls in a new actor.
job_actor spawn_job(caf::local_actor* parent, job_record job, job_context context);

} // namespace diffplane
