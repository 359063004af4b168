#pragma once

#include "actors/resource_informers.hpp"
#include "actors/resource_messages.hpp"

#include <chrono>
#include <string>
#include <string_view>

// The rules of a resource (ARCHITECTURE.md "Resource controllers", issue 15) as pure
// functions, so that the resources actor stays a pipeline and the rules are tested
// without actors.
namespace diffplane::resources {

/// Tunables of resource controllers (domain_options::resources).
struct resource_options {
  /// A failed attempt's retry waits base * 2^(attempts - 1), at most `backoff_cap`.
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{300000};
  /// A work job that runs longer fails this attempt.
  std::int32_t work_timeout_seconds = 300;
  /// Attempts of an object before `degraded`, when the inform does not say.
  std::int32_t default_max_attempts = 10;
  /// Errors kept per resource (the newest).
  std::size_t max_errors = 20;
  /// How often namespaces' expiry and retention are checked (while any namespace has
  /// one): they are due to this much late at most.
  std::chrono::milliseconds timer_scan_interval{1000};
  /// Events each cluster keeps in memory for GET /resources/events (older ones are
  /// read from Postgres).
  std::size_t events_in_memory = 10000;
  /// Reads an informer's resolution (gateway::decode_informed, set by the server); unset,
  /// every informer run fails.
  informed_decoder decode_informed;
};

/// The service of `kind`'s controller.
std::string service_of(const std::string& kind);

/// Whether `service` is a controller's service (resources.<kind>).
bool is_controller_service(const std::string& service);

/// The kind of a controller's service (resources.<kind> -> <kind>).
std::string kind_of_service(const std::string& service);

/// SHA-256 of the object's canonical JSON, as lowercase hex.
std::string hash_of(const std::string& object_json);

/// The work job's targetArgs, as the SDK encodes arguments: base64 of the msgpack of
/// [{"kind", "id", "object", "version", "namespace", "attempt"}].
std::string work_args(const resource_record& resource);

/// work_args with the object given as its msgpack (the same bytes, without parsing
/// object_json again); plain work_args when `object_msgpack` is empty.
std::string work_args(const resource_record& resource, std::string_view object_msgpack);

/// JSON text as the SDK encodes a payload (base64 of msgpack), and back (empty when
/// `payload` is not one): what workers send and receive.
std::string encode_payload(const std::string& json_text);
std::string decode_payload(const std::string& payload);

/// What a finished work job says about its resource.
struct work_outcome {
  /// synced, deleted or failed.
  resource_state state = resource_state::failed;
  /// Why the attempt failed (state failed).
  std::string message;
};

/// Reads a work job's end: a resolution {"action":"synced"} or {"action":"delete"}, a
/// rejection (the error's message), or a failure (timed out, worker lost).
work_outcome outcome_of(job_status status, result_kind type, const std::string& result);

/// How long a failed resource waits before attempt `attempts` + 1.
std::chrono::milliseconds backoff(std::int32_t attempts, const resource_options& options);

/// Copies what the inform carries into `resource` (a field left out keeps its value).
void take_input(resource_record& resource, const resource_input& input,
                const std::string& hash, const resource_options& options);

/// Appends the error of attempt `resource.attempts`, keeping the newest `max_errors`.
void record_error(resource_record& resource, const std::string& message, timestamp_ms at,
                  std::size_t max_errors);

/// The key of a resource in a cluster's map.
inline std::string key_of(const std::string& kind, const std::string& id) {
  return kind + '/' + id;
}

} // namespace diffplane::resources
