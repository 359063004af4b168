#pragma once

#include "actors/messages.hpp"

#include <string>

// The exceptional entries of a cluster's activity log, which the actors store through the
// persistence actor's batches. Routine entries (created, received, resulted) are derived
// from the job rows when the log is read (persistence/sql_activity.hpp).
namespace diffplane::activity {

event_record job_stalled(const job_record& job, const std::string& machine_id,
                         const std::string& reason);
event_record job_failed(const job_record& job, const std::string& reason);
event_record job_recovered(const job_record& job, job_status found,
                           const std::string& machine_id);
event_record result_not_persisted(const std::string& cluster_id,
                                  const std::string& service, const job_result_post& post,
                                  const std::string& reason);
event_record machine_stalled(const machine_record& machine, std::int64_t silent_seconds);

} // namespace diffplane::activity
