#include "actors/resource_lifecycle.hpp"

#include "actors/secrets.hpp"
#include "persistence/iso8601.hpp"
#include "persistence/resource_work_args.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace diffplane::resources {

namespace {

using persistence::base64_decode;
using persistence::base64_encode;

constexpr std::string_view service_prefix = "resources.";

/// The SDK's payload (base64 of msgpack) as JSON; discarded (is_discarded()) when it is
/// not one.
nlohmann::json decode_json_payload(const std::string& payload) {
  std::vector<std::uint8_t> bytes;
  if (!base64_decode(payload, bytes))
    return nlohmann::json::value_t::discarded;
  return nlohmann::json::from_msgpack(bytes, true, false);
}

std::string shortened(std::string text, std::size_t most = 500) {
  if (text.size() > most)
    text.resize(most);
  return text;
}

} // namespace

std::string encode_payload(const std::string& json_text) {
  return base64_encode(nlohmann::json::to_msgpack(nlohmann::json::parse(json_text)));
}

std::string decode_payload(const std::string& payload) {
  auto value = decode_json_payload(payload);
  return value.is_discarded() ? std::string{} : value.dump();
}

std::string service_of(const std::string& kind) {
  return std::string{service_prefix} + kind;
}

bool is_controller_service(const std::string& service) {
  return service.size() > service_prefix.size() &&
         service.compare(0, service_prefix.size(), service_prefix) == 0;
}

std::string kind_of_service(const std::string& service) {
  return is_controller_service(service) ? service.substr(service_prefix.size())
                                        : std::string{};
}

std::string hash_of(const std::string& object_json) {
  static constexpr char digits[] = "0123456789abcdef";
  auto raw = secrets::sha256(object_json);
  std::string hex;
  hex.reserve(raw.size() * 2);
  for (unsigned char b : raw) {
    hex.push_back(digits[b >> 4]);
    hex.push_back(digits[b & 0xF]);
  }
  return hex;
}

std::string work_args(const resource_record& resource) {
  return persistence::work_args(resource);
}

std::string work_args(const resource_record& resource, std::string_view object_msgpack) {
  return persistence::work_args(resource, object_msgpack);
}

work_outcome outcome_of(job_status status, result_kind type, const std::string& result) {
  if (status != job_status::success)
    return {resource_state::failed,
            "the work did not finish: it timed out or its worker was lost"};
  auto value = decode_json_payload(result);
  if (value.is_discarded())
    return {resource_state::failed,
            "the controller's result is not the SDK's base64 msgpack"};
  if (type == result_kind::rejection) {
    if (value.is_object() && value.contains("message") && value["message"].is_string())
      return {resource_state::failed, shortened(value["message"].get<std::string>())};
    return {resource_state::failed, shortened(value.dump())};
  }
  if (value.is_object() && value.contains("action") && value["action"].is_string()) {
    auto action = value["action"].get<std::string>();
    if (action == "synced")
      return {resource_state::synced, {}};
    if (action == "delete")
      return {resource_state::deleted, {}};
  }
  return {resource_state::failed,
          "the controller resolved with " + shortened(value.dump(), 200) +
              ", not {\"action\": \"synced\"} or {\"action\": \"delete\"}"};
}

std::chrono::milliseconds backoff(std::int32_t attempts,
                                  const resource_options& options) {
  auto wait = options.backoff_base;
  for (std::int32_t i = 1; i < attempts && wait < options.backoff_cap; ++i)
    wait *= 2;
  return std::min(wait, options.backoff_cap);
}

void take_input(resource_record& resource, const resource_input& input,
                const std::string& hash, const resource_options& options) {
  resource.kind = input.kind;
  resource.id = input.id;
  resource.object_json = input.object_json;
  resource.hash = hash;
  if (input.has_version) {
    resource.has_version = true;
    resource.version = input.version;
  }
  if (!input.namespace_name.empty())
    resource.namespace_name = input.namespace_name;
  if (!input.tags_json.empty())
    resource.tags_json = input.tags_json;
  if (!input.metadata_json.empty())
    resource.metadata_json = input.metadata_json;
  if (input.external_created_at != 0)
    resource.external_created_at = input.external_created_at;
  if (input.max_attempts > 0)
    resource.max_attempts = input.max_attempts;
  else if (resource.max_attempts <= 0)
    resource.max_attempts = options.default_max_attempts;
}

void record_error(resource_record& resource, const std::string& message, timestamp_ms at,
                  std::size_t max_errors) {
  auto errors = nlohmann::json::parse(resource.errors_json, nullptr, false);
  if (!errors.is_array())
    errors = nlohmann::json::array();
  errors.push_back(
      {{"attempt", resource.attempts}, {"message", message}, {"at", format_iso8601(at)}});
  while (errors.size() > max_errors)
    errors.erase(errors.begin());
  resource.errors_json = errors.dump();
}

} // namespace diffplane::resources
