#include "actors/resource_lifecycle.hpp"

#include "actors/secrets.hpp"
#include "persistence/iso8601.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <limits>

namespace diffplane::resources {

namespace {

constexpr std::string_view service_prefix = "resources.";

std::string base64_encode(const std::vector<std::uint8_t>& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  auto written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                 bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(written, 0)));
  return out;
}

/// Decodes standard base64 (with padding); false when `text` is not.
bool base64_decode(const std::string& text, std::vector<std::uint8_t>& out) {
  if (text.size() % 4 != 0)
    return false;
  out.assign(3 * text.size() / 4, 0);
  auto written =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                      static_cast<int>(text.size()));
  if (written < 0)
    return false;
  // EVP_DecodeBlock counts the padding as zero bytes.
  auto padding =
      std::count(text.end() - std::min<std::size_t>(text.size(), 2), text.end(), '=');
  out.resize(static_cast<std::size_t>(written) - static_cast<std::size_t>(padding));
  return true;
}

/// The SDK's payload (base64 of msgpack) as JSON; discarded (is_discarded()) when it is
/// not one.
nlohmann::json decode_json_payload(const std::string& payload) {
  std::vector<std::uint8_t> bytes;
  if (!base64_decode(payload, bytes))
    return nlohmann::json::value_t::discarded;
  return nlohmann::json::from_msgpack(bytes, true, false);
}

/// An integer as the SDK should read it: its msgpack decoder (msgpackr) makes a 64-bit
/// msgpack integer a BigInt, so one beyond 32 bits that a double holds exactly (at most
/// 2^53-1 either way) goes as a double, which it reads as a number. Beyond that a double
/// would round it: it stays exact, as a 64-bit integer (a BigInt in JavaScript).
nlohmann::json sdk_integer(std::int64_t value) {
  constexpr std::int64_t max_safe = (std::int64_t{1} << 53) - 1;
  if (value >= std::numeric_limits<std::int32_t>::min() &&
      value <= std::numeric_limits<std::uint32_t>::max())
    return value;
  if (value >= -max_safe && value <= max_safe)
    return static_cast<double>(value);
  return value;
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
  nlohmann::json argument = {
      {"kind", resource.kind},
      {"id", resource.id},
      {"object", nlohmann::json::parse(resource.object_json, nullptr, false)},
      {"version", resource.has_version ? sdk_integer(resource.version) : nullptr},
      {"namespace", resource.namespace_name},
      {"attempt", resource.attempts}};
  return base64_encode(nlohmann::json::to_msgpack(nlohmann::json::array({argument})));
}

std::string work_args(const resource_record& resource, std::string_view object_msgpack) {
  if (object_msgpack.empty())
    return work_args(resource);
  // A msgpack map is its header and then its members, which nlohmann writes in key
  // order: the bytes of work_args, with the object's own bytes spliced in rather than
  // parsed from its text again (a third of the resources actor's time on changed
  // informs, bench/resources).
  std::vector<std::uint8_t> bytes;
  bytes.reserve(object_msgpack.size() + resource.kind.size() + resource.id.size() +
                resource.namespace_name.size() + 64);
  bytes.push_back(0x91); // an array of one
  bytes.push_back(0x86); // a map of six
  auto put = [&bytes](const nlohmann::json& value) { nlohmann::json::to_msgpack(value, bytes); };
  put("attempt");
  put(resource.attempts);
  put("id");
  put(resource.id);
  put("kind");
  put(resource.kind);
  put("namespace");
  put(resource.namespace_name);
  put("object");
  bytes.insert(bytes.end(), object_msgpack.begin(), object_msgpack.end());
  put("version");
  put(resource.has_version ? sdk_integer(resource.version) : nlohmann::json(nullptr));
  return base64_encode(bytes);
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
