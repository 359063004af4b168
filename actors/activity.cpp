#include "actors/activity.hpp"

#include "actors/wall_clock.hpp"

#include <nlohmann/json.hpp>

namespace diffplane::activity {

namespace {

event_record about(const job_record& job, const char* type, const nlohmann::json& meta,
                   const std::string& machine_id) {
  return event_record{job.cluster_id, type,        job.id,         machine_id, {},
                      job.service,    meta.dump(), wall_clock_ms()};
}

std::int32_t attempts_remaining(const job_record& job) {
  return std::max(job.max_attempts - job.attempts_used, 0);
}

} // namespace

event_record job_stalled(const job_record& job, const std::string& machine_id,
                         const std::string& reason) {
  return about(job, "jobStalled",
               {{"targetFn", job.target_fn},
                {"reason", reason},
                {"attemptsRemaining", attempts_remaining(job)},
                {"status", std::string{to_string(job.status)}}},
               machine_id);
}

event_record job_failed(const job_record& job, const std::string& reason) {
  return about(
      job, "jobFailed",
      {{"targetFn", job.target_fn}, {"reason", reason}, {"attempts", job.attempts_used}},
      job.executing_machine_id);
}

event_record job_recovered(const job_record& job, job_status found,
                           const std::string& machine_id) {
  return about(job, "jobRecovered",
               {{"targetFn", job.target_fn},
                {"reason", "the node running it stopped"},
                {"previousStatus", std::string{to_string(found)}},
                {"status", std::string{to_string(job.status)}},
                {"attemptsRemaining", attempts_remaining(job)}},
               machine_id);
}

event_record result_not_persisted(const std::string& cluster_id,
                                  const std::string& service, const job_result_post& post,
                                  const std::string& reason) {
  return event_record{cluster_id,
                      "jobResultNotPersisted",
                      post.job_id,
                      post.machine_id,
                      post.deployment_id,
                      service,
                      nlohmann::json{{"reason", reason},
                                     {"resultType", std::string{to_string(post.type)}}}
                          .dump(),
                      wall_clock_ms()};
}

event_record machine_stalled(const machine_record& machine, std::int64_t silent_seconds) {
  return event_record{
      machine.cluster_id,
      "machineStalled",
      {},
      machine.id,
      machine.deployment_id,
      machine.service,
      nlohmann::json{{"ip", machine.ip}, {"silentSeconds", silent_seconds}}.dump(),
      wall_clock_ms()};
}

} // namespace diffplane::activity
