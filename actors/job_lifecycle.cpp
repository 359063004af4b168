#include "actors/job_lifecycle.hpp"

#include <algorithm>

namespace diffplane::lifecycle {

std::int32_t max_attempts_for(std::int32_t retry_count_on_stall) {
  return std::max<std::int32_t>(retry_count_on_stall, 0) + 1;
}

job_record make_job(const std::string& cluster_id, const std::string& id,
                    const create_job_request& request, timestamp_ms now) {
  job_record job;
  job.cluster_id = cluster_id;
  job.id = id;
  job.service = request.service;
  job.target_fn = request.target_fn;
  job.target_args = request.target_args;
  job.cache_key = request.cache_key;
  job.max_attempts = max_attempts_for(request.retry_count_on_stall);
  job.timeout_seconds = request.timeout_seconds;
  job.predictive_retries_on_rejection = request.predictive_retries_on_rejection;
  job.background = request.background;
  job.durable = request.durable;
  job.created_at = now;
  job.status = job_status::pending;
  job.revision = 1;
  return job;
}

void dispatch(job_record& job, const std::string& machine_id, timestamp_ms now) {
  job.status = job_status::running;
  job.attempts_used += 1;
  job.executing_machine_id = machine_id;
  job.last_dispatched_at = now;
  job.revision += 1;
}

bool accepts_result(const job_record& job, const job_result_post& post) {
  return job.status == job_status::running && !post.machine_id.empty() &&
         job.executing_machine_id == post.machine_id && post.attempt == job.attempts_used;
}

resolution_undo resolve(job_record& job, const job_result_post& post, timestamp_ms now) {
  resolution_undo replaced{job.status,
                           job.result_type,
                           std::move(job.result),
                           job.function_execution_time_ms,
                           job.resulted_at,
                           job.revision};
  job.status = job_status::success;
  job.result_type = post.type;
  job.result = post.result;
  job.function_execution_time_ms = post.function_execution_time_ms;
  job.resulted_at = now;
  job.revision += 1;
  return replaced;
}

void undo(job_record& job, resolution_undo replaced) {
  job.status = replaced.status;
  job.result_type = replaced.result_type;
  job.result = std::move(replaced.result);
  job.function_execution_time_ms = replaced.function_execution_time_ms;
  job.resulted_at = replaced.resulted_at;
  job.revision = replaced.revision;
}

job_status stall(job_record& job, timestamp_ms now) {
  // executing_machine_id stays: it names the machine of the last attempt.
  job.revision += 1;
  if (job.attempts_used < job.max_attempts) {
    job.status = job_status::pending;
  } else {
    job.status = job_status::failure;
    job.resulted_at = now;
  }
  return job.status;
}

void withdraw(job_record& job, timestamp_ms now) {
  job.status = job_status::failure;
  job.resulted_at = now;
  job.revision += 1;
}

bool recover(job_record& job, timestamp_ms now) {
  if (job.status == job_status::running || job.status == job_status::stalled) {
    stall(job, now);
    return true;
  }
  return false;
}

job_state_write state_of(const job_record& job) {
  return job_state_write{job.cluster_id,
                         job.id,
                         job.status,
                         job.result_type,
                         job.result,
                         job.attempts_used,
                         job.executing_machine_id,
                         job.function_execution_time_ms,
                         job.last_dispatched_at,
                         job.resulted_at,
                         job.revision};
}

job_status_row status_row_of(const job_record& job) {
  return job_status_row{job.id, job.status, job.result_type, job.result};
}

} // namespace diffplane::lifecycle
