#include "bench/loadgen/run_metrics.hpp"

namespace diffplane::bench {

namespace {
constexpr std::size_t detail_length = 200;
}

void run_metrics::record_create(steady_time sent, steady_time acked) {
  if (!window_.contains(sent) || !window_.contains(acked))
    return;
  std::lock_guard lock{mutex_};
  ++data_.jobs_created;
  data_.create.record(acked - sent);
}

void run_metrics::record_outcome(steady_time sent, steady_time seen,
                                 job_outcome outcome) {
  if (!window_.contains(seen))
    return;
  std::lock_guard lock{mutex_};
  switch (outcome) {
  case job_outcome::resolved:
    ++data_.jobs_completed;
    // Latency only for jobs created after the warm-up: earlier ones carry its queueing.
    if (window_.contains(sent))
      data_.create_to_result.record(seen - sent);
    break;
  case job_outcome::wrong_result:
    ++data_.errors["job resolved with a result other than its arguments"].count;
    break;
  case job_outcome::failed:
    ++data_.jobs_failed;
    break;
  }
}

void run_metrics::record_dispatch(steady_time acked, steady_time dispatched) {
  if (!window_.contains(acked) || !window_.contains(dispatched))
    return;
  std::lock_guard lock{mutex_};
  if (dispatched < acked)
    ++data_.dispatched_before_ack;
  data_.dispatch.record(dispatched - acked);
}

void run_metrics::record_result_post(steady_time sent, steady_time answered) {
  if (!window_.contains(sent) || !window_.contains(answered))
    return;
  std::lock_guard lock{mutex_};
  ++data_.results_posted;
  data_.result_post.record(answered - sent);
}

void run_metrics::record_worker_poll(steady_time answered, std::size_t jobs) {
  if (!window_.contains(answered))
    return;
  std::lock_guard lock{mutex_};
  ++data_.worker_polls;
  data_.jobs_received += jobs;
  if (jobs == 0)
    ++data_.worker_polls_empty;
}

void run_metrics::record_status_poll(steady_time answered, std::size_t ids) {
  if (!window_.contains(answered))
    return;
  std::lock_guard lock{mutex_};
  ++data_.status_polls;
  data_.status_ids_sent += ids;
}

void run_metrics::record_error(std::string_view route, const http_answer& answer) {
  std::string key{route};
  std::string detail;
  if (answer.error) {
    key += " -> " + answer.error.message();
  } else {
    key += " -> " + std::to_string(answer.status);
    detail = answer.body.substr(0, detail_length);
  }
  record_error(key, detail);
}

void run_metrics::record_error(std::string_view what, std::string_view detail) {
  std::lock_guard lock{mutex_};
  auto& tally = data_.errors[std::string{what}];
  if (tally.count++ == 0)
    tally.first_detail = std::string{detail.substr(0, detail_length)};
}

metrics_snapshot run_metrics::snapshot() const {
  std::lock_guard lock{mutex_};
  return data_;
}

} // namespace diffplane::bench
