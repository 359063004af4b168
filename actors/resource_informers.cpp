#include "actors/resource_informers.hpp"

#include "actors/resource_lifecycle.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <exception>

namespace diffplane::resources {

namespace {

/// At most this much of a failed run's error is kept.
constexpr std::size_t max_error_length = 500;

std::string shortened(std::string text) {
  if (text.size() > max_error_length)
    text.resize(max_error_length);
  return text;
}

informer_outcome failure(std::string message) {
  return informer_outcome{false, {}, shortened(std::move(message))};
}

} // namespace

std::string inform_args(const std::string& kind, timestamp_ms last_run_at) {
  // A double, not an integer: the SDK's msgpack decoder makes 64-bit integers BigInts,
  // which JavaScript's Date refuses; epoch milliseconds are exact in a double.
  nlohmann::json argument = {
      {"kind", kind},
      {"lastRunAt", last_run_at == 0 ? nlohmann::json(nullptr)
                                     : nlohmann::json(static_cast<double>(last_run_at))}};
  return encode_payload(nlohmann::json::array({argument}).dump());
}

job_record informer_job(const std::string& cluster_id, std::string id,
                        const std::string& kind, timestamp_ms last_run_at,
                        std::int32_t timeout_seconds) {
  job_record job;
  job.cluster_id = cluster_id;
  job.id = std::move(id);
  job.service = service_of(kind);
  job.target_fn = inform_function;
  job.target_args = inform_args(kind, last_run_at);
  job.max_attempts = 1;
  job.timeout_seconds = timeout_seconds;
  job.status = job_status::pending;
  job.revision = 1;
  job.id_generated = true;
  return job;
}

informer_outcome informer_outcome_of(job_status status, result_kind type,
                                     const std::string& result,
                                     const informed_decoder& decode) {
  if (status != job_status::success)
    return failure("the informer did not finish: it timed out or its worker was lost");
  auto text = decode_payload(result);
  if (text.empty())
    return failure("the informer's result is not the SDK's base64 msgpack");
  auto value = nlohmann::json::parse(text, nullptr, false);
  if (type == result_kind::rejection) {
    if (value.is_object() && value.contains("message") && value["message"].is_string())
      return failure(value["message"].get<std::string>());
    return failure(text);
  }
  if (!decode)
    return failure("this server cannot decode informed resources");
  try {
    return informer_outcome{true, decode(text), {}};
  } catch (const std::exception& e) {
    return failure(e.what());
  }
}

std::optional<informer_schedule::timer>
informer_schedule::configure(const std::string& kind, std::int32_t interval_seconds,
                             timestamp_ms last_run_at, timestamp_ms now) {
  auto& e = kinds_[kind];
  e.last_run_at = std::max(e.last_run_at, last_run_at);
  if (e.interval_seconds == interval_seconds && e.generation != 0)
    return std::nullopt;
  e.interval_seconds = interval_seconds;
  e.generation = ++generations_;
  if (interval_seconds <= 0)
    return std::nullopt;
  auto due = e.last_run_at == 0
                 ? now
                 : std::max(now, e.last_run_at + std::int64_t{interval_seconds} * 1000);
  return timer{kind, due, e.generation};
}

bool informer_schedule::fire(const std::string& kind, std::uint64_t generation,
                             timestamp_ms now, std::optional<timer>& next) {
  next.reset();
  auto it = kinds_.find(kind);
  if (it == kinds_.end() || it->second.generation != generation ||
      it->second.interval_seconds <= 0)
    return false;
  auto& e = it->second;
  next = timer{kind, now + std::int64_t{e.interval_seconds} * 1000, generation};
  return e.job_id.empty();
}

void informer_schedule::started(const std::string& kind, const std::string& job_id,
                                timestamp_ms now) {
  auto& e = kinds_[kind];
  e.job_id = job_id;
  e.started_at = now;
}

void informer_schedule::adopt(const std::string& kind, const std::string& job_id,
                              timestamp_ms started_at) {
  auto& e = kinds_[kind];
  if (e.job_id.empty() || started_at >= e.started_at)
    started(kind, job_id, started_at);
}

const std::string* informer_schedule::kind_of(const std::string& job_id) const {
  for (const auto& [kind, e] : kinds_)
    if (!e.job_id.empty() && e.job_id == job_id)
      return &kind;
  return nullptr;
}

void informer_schedule::succeeded(const std::string& kind, timestamp_ms started_at) {
  auto& e = kinds_[kind];
  e.last_run_at = std::max(e.last_run_at, started_at);
  e.job_id.clear();
  e.started_at = 0;
  e.error.clear();
}

void informer_schedule::failed(const std::string& kind, const std::string& message) {
  auto& e = kinds_[kind];
  e.job_id.clear();
  e.started_at = 0;
  e.error = message;
}

const informer_schedule::entry* informer_schedule::find(const std::string& kind) const {
  auto it = kinds_.find(kind);
  return it == kinds_.end() ? nullptr : &it->second;
}

timestamp_ms informer_schedule::last_run_at(const std::string& kind) const {
  const auto* e = find(kind);
  return e == nullptr ? 0 : e->last_run_at;
}

timestamp_ms informer_schedule::run_started_at(const std::string& kind) const {
  const auto* e = find(kind);
  return e == nullptr ? 0 : e->started_at;
}

std::string informer_schedule::last_error(const std::string& kind) const {
  const auto* e = find(kind);
  return e == nullptr ? std::string{} : e->error;
}

} // namespace diffplane::resources
