#pragma once

#include "actors/resource_messages.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

// Informers of resource controllers (docs/resources.md, "Informers"): every
// `inform_interval_seconds` a kind's controller is asked, by a job of service
// resources.<kind>, function `inform`, for the resources to inform. The rules as plain
// code, so that the resources actor only wires timers, jobs and commits to them.
namespace diffplane::resources {

/// The function of an informer's jobs (a work job's is "work").
inline constexpr const char* inform_function = "inform";

/// Decodes an informer's resolution (JSON text of an array of resources in the POST
/// /resources item shape); throws a std::exception whose message names the item and
/// field. Injected by the server (the gateway owns the codecs).
using informed_decoder = std::function<std::vector<resource_input>(const std::string&)>;

/// The informer job's targetArgs, as the SDK encodes arguments: base64 of the msgpack of
/// [{"kind", "lastRunAt"}], lastRunAt in epoch milliseconds or null (never ran).
std::string inform_args(const std::string& kind, timestamp_ms last_run_at);

/// The job of an informer run of `kind` (one attempt: a failed run is tried again at the
/// next interval, not by the job).
job_record informer_job(const std::string& cluster_id, std::string id,
                        const std::string& kind, timestamp_ms last_run_at,
                        std::int32_t timeout_seconds);

/// What an informer run returned: the resources to inform, or why the run failed.
struct informer_outcome {
  bool ok = false;
  std::vector<resource_input> items;
  std::string error;
};

/// Reads an informer job's end: a resolution with an array of resources, a rejection
/// (the error's message) or a failure (timed out, worker lost).
informer_outcome informer_outcome_of(job_status status, result_kind type,
                                     const std::string& result,
                                     const informed_decoder& decode);

/// When each kind's informer runs; at most one run of a kind is in flight.
class informer_schedule {
public:
  /// A timer to arm: fire(kind, generation) at `due` (epoch ms).
  struct timer {
    std::string kind;
    timestamp_ms due = 0;
    std::uint64_t generation = 0;
  };

  /// Sets `kind`'s interval (0: off) and the start of its last successful run (0: never;
  /// an older one than known is ignored). A timer when the interval changed and is on:
  /// due one interval after the last run, at once when that has passed or never ran.
  std::optional<timer> configure(const std::string& kind, std::int32_t interval_seconds,
                                 timestamp_ms last_run_at, timestamp_ms now);

  /// A timer of `kind` fired: true when a run is to start now (on, the timer current,
  /// no run in flight). `next` gets the following timer (one interval on) while on.
  bool fire(const std::string& kind, std::uint64_t generation, timestamp_ms now,
            std::optional<timer>& next);

  /// A run of `kind` started with job `job_id` at `now`.
  void started(const std::string& kind, const std::string& job_id, timestamp_ms now);

  /// A run of `kind` that an earlier owner of the cluster started at `started_at` with
  /// job `job_id`, still queued or running: in flight as if started here. Of several
  /// (none should be), the newest.
  void adopt(const std::string& kind, const std::string& job_id, timestamp_ms started_at);

  /// The kind whose run in flight is job `job_id`; null when it is none.
  const std::string* kind_of(const std::string& job_id) const;

  /// The run of `kind` that started at `started_at` is committed: the last successful
  /// run, and the next may start.
  void succeeded(const std::string& kind, timestamp_ms started_at);

  /// The run of `kind` failed (kept as its error); the next interval tries again.
  void failed(const std::string& kind, const std::string& message);

  timestamp_ms last_run_at(const std::string& kind) const;
  /// When the run in flight started; 0 when none is.
  timestamp_ms run_started_at(const std::string& kind) const;
  /// The error of the last run when it failed; empty when it succeeded.
  std::string last_error(const std::string& kind) const;

private:
  struct entry {
    std::int32_t interval_seconds = 0;
    timestamp_ms last_run_at = 0;
    std::uint64_t generation = 0;
    std::string job_id; // empty: no run in flight
    timestamp_ms started_at = 0;
    std::string error;
  };

  const entry* find(const std::string& kind) const;

  std::unordered_map<std::string, entry> kinds_;
  /// Generations never repeat, so a timer of an older setting is always stale.
  std::uint64_t generations_ = 0;
};

} // namespace diffplane::resources
