#include "persistence/records.hpp"

namespace diffplane {

std::string_view to_string(job_status status) {
  switch (status) {
  case job_status::pending:
    return "pending";
  case job_status::running:
    return "running";
  case job_status::success:
    return "success";
  case job_status::failure:
    return "failure";
  case job_status::stalled:
    return "stalled";
  }
  return "pending";
}

std::string_view to_string(result_kind kind) {
  switch (kind) {
  case result_kind::resolution:
    return "resolution";
  case result_kind::rejection:
    return "rejection";
  case result_kind::none:
    break;
  }
  return "";
}

void apply(job_record& job, const job_state_write& write) {
  job.status = write.status;
  job.result_type = write.result_type;
  job.result = write.result;
  job.attempts_used = write.attempts_used;
  job.executing_machine_id = write.executing_machine_id;
  job.function_execution_time_ms = write.function_execution_time_ms;
  job.last_dispatched_at = write.last_dispatched_at;
  job.resulted_at = write.resulted_at;
  job.revision = write.revision;
}

bool parse(std::string_view text, job_status& out) {
  for (auto s : {job_status::pending, job_status::running, job_status::success,
                 job_status::failure, job_status::stalled})
    if (to_string(s) == text) {
      out = s;
      return true;
    }
  return false;
}

bool parse(std::string_view text, result_kind& out) {
  if (text.empty()) {
    out = result_kind::none;
    return true;
  }
  for (auto k : {result_kind::resolution, result_kind::rejection})
    if (to_string(k) == text) {
      out = k;
      return true;
    }
  return false;
}

} // namespace diffplane
