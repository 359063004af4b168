#pragma once

#include "actors/messages.hpp"

#include <string>

// The job state machine of ARCHITECTURE.md "Job semantics" as pure functions on a
// job_record, so the actors stay thin and the rules are tested without actors:
//   pending -> running -> success (resolution | rejection)
//   running -> stalled -> pending while attempts remain, else failure
// Every transition bumps the revision, so persisted writes apply in order.
namespace diffplane::lifecycle {

/// Attempts a call gets: the first one plus one per allowed stall.
std::int32_t max_attempts_for(std::int32_t retry_count_on_stall);

/// A new pending job from a create request.
job_record make_job(const std::string& cluster_id, const std::string& id,
                    const create_job_request& request, timestamp_ms now);

/// pending -> running on `machine_id`; spends one attempt.
void dispatch(job_record& job, const std::string& machine_id, timestamp_ms now);

/// Whether `post` may finish the job: only a result of the current running attempt, from
/// the machine holding it, may. The same machine can hold a later attempt of the job, so
/// the machine alone does not tell a late result apart.
bool accepts_result(const job_record& job, const job_result_post& post);

/// The fields resolve() replaces, so that a resolution whose write failed can be taken
/// back without a copy of the whole job.
struct resolution_undo {
  job_status status = job_status::running;
  result_kind result_type = result_kind::none;
  std::string result;
  std::int32_t function_execution_time_ms = -1;
  timestamp_ms resulted_at = 0;
  std::int64_t revision = 0;
};

/// running -> success with the posted result; returns what it replaced.
resolution_undo resolve(job_record& job, const job_result_post& post, timestamp_ms now);

/// Puts back what resolve() replaced.
void undo(job_record& job, resolution_undo replaced);

/// running -> stalled -> pending when attempts remain, else failure. Returns the new
/// status.
job_status stall(job_record& job, timestamp_ms now);

/// pending -> failure without an attempt: the job is withdrawn from its queue (the work
/// of a removed resource).
void withdraw(job_record& job, timestamp_ms now);

/// A job found pending, running or stalled at start: a running attempt counts as stalled
/// (it was spent when dispatched). Returns true when the state changed and must be
/// written.
bool recover(job_record& job, timestamp_ms now);

/// The mutable part of `job`, for the persistence actor.
job_state_write state_of(const job_record& job);

/// What a status poll answers about `job`.
job_status_row status_row_of(const job_record& job);

} // namespace diffplane::lifecycle
