#include "gateway/resource_codecs.hpp"

#include "actors/resource_kind_settings.hpp"

#include "gateway/inform_document.hpp"
#include "gateway/json_codecs.hpp"
#include "gateway/json_nesting.hpp"
#include "gateway/json_writer.hpp"
#include "persistence/iso8601.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace diffplane::gateway {

namespace {

using json = nlohmann::json;

/// An object may nest this deep (the resource itself counts two levels).
constexpr std::size_t max_inform_nesting = 64;
constexpr std::size_t max_id_length = 256;
constexpr std::size_t max_tags = 32;
constexpr std::size_t max_tag_value_length = 256;
constexpr std::int32_t max_max_attempts = 1000;

/// Kinds and namespaces: the domain's rule (a kind becomes the service name
/// resources.<kind>).
void check_name(const std::string& value, const std::string& field) {
  if (auto problem = resources::resource_name_problem(value, field); !problem.empty())
    throw bad_input(field, problem);
}

/// Object ids: 1 to 256 printable ASCII characters other than '/' and space, so that an
/// id is one segment of /resources/:kind/:id.
void check_id(const std::string& value, const std::string& field) {
  bool ok = !value.empty() && value.size() <= max_id_length;
  for (char c : value)
    ok = ok && c > ' ' && c < 0x7F && c != '/';
  if (!ok)
    throw bad_input(field, field + " must be 1 to 256 printable ASCII characters "
                                   "without '/' or spaces");
}

// The flat document decode_inform reads the body into (gateway/inform_document.hpp).
using document = inform_document;

/// The member `name` of `item`; 0 when it is absent or null and not required.
std::uint32_t member(const document& doc, std::uint32_t item, std::string_view name,
                     const std::string& field, bool required) {
  auto found = doc.member(item, name);
  if (found != 0 && doc.at(found).kind != document::type::null)
    return found;
  if (required)
    throw bad_input(field, field + " is required");
  return 0;
}

std::string string_member(const document& doc, std::uint32_t item, const char* name,
                          const std::string& prefix, bool required) {
  auto field = prefix + name;
  auto found = member(doc, item, name, field, required);
  if (found == 0)
    return {};
  if (doc.at(found).kind != document::type::string)
    throw bad_input(field, field + " must be a string");
  return std::string{doc.text(doc.at(found))};
}

/// Canonical JSON of an object member (keys sorted) and its msgpack when `msgpack` is
/// given; empty when absent.
std::string object_member(document& doc, std::uint32_t item, const char* name,
                          const std::string& prefix, bool required,
                          std::string* msgpack = nullptr) {
  auto field = prefix + name;
  auto found = member(doc, item, name, field, required);
  if (found == 0)
    return {};
  if (doc.at(found).kind != document::type::object)
    throw bad_input(field, field + " must be a JSON object");
  std::string text;
  std::string ignored;
  doc.write(found, text, msgpack != nullptr ? *msgpack : ignored);
  // Postgres's jsonb cannot hold the NUL character.
  if (text.find("\\u0000") != std::string::npos)
    throw bad_input(field, field + " must not contain the NUL character");
  return text;
}

std::string tags_member(document& doc, std::uint32_t item, const std::string& prefix) {
  auto field = prefix + "tags";
  auto found = doc.member(item, "tags");
  if (found == 0 || doc.at(found).kind == document::type::null)
    return {};
  std::vector<std::uint32_t> tags;
  if (doc.at(found).kind == document::type::object)
    doc.sorted_members(found, tags);
  if (doc.at(found).kind != document::type::object || tags.size() > max_tags)
    throw bad_input(field, field + " must be an object of at most 32 string values");
  for (auto tag : tags) {
    const auto& value = doc.at(tag);
    auto key = std::string{doc.key(value)};
    check_name(key, field + "." + key);
    if (value.kind != document::type::string ||
        doc.text(value).size() > max_tag_value_length || !is_clean_text(doc.text(value)))
      throw bad_input(field + "." + key,
                      field + "." + key + " must be a string of at most 256 bytes");
  }
  std::string text;
  std::string ignored;
  doc.write(found, text, ignored);
  return text;
}

bool is_integer(const document::value& value) {
  return value.kind == document::type::integer ||
         value.kind == document::type::unsigned_integer;
}

/// An integer's value as a DOM's get<std::int64_t>() gives it (unsigned ones cast).
std::int64_t integer_of(const document::value& value) {
  return value.kind == document::type::integer
             ? value.integer
             : static_cast<std::int64_t>(value.unsigned_integer);
}

/// A version: an integer from 0 to 2^63-1, or a double that stands for one up to 2^53-1
/// (an informer in JavaScript returns a number beyond 32 bits so: msgpackr packs it as
/// a double).
std::int64_t version_member(const document::value& value, const std::string& prefix) {
  auto refused = [&] {
    return bad_input(prefix + "version",
                     prefix + "version must be an integer from 0 to 2^63-1");
  };
  if (value.kind == document::type::real) {
    auto d = value.real;
    if (!(d >= 0 && d <= 9007199254740991.0) || std::trunc(d) != d)
      throw refused();
    return static_cast<std::int64_t>(d);
  }
  if (value.kind == document::type::unsigned_integer) {
    if (value.unsigned_integer >
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      throw refused();
    return static_cast<std::int64_t>(value.unsigned_integer);
  }
  if (value.kind != document::type::integer || value.integer < 0)
    throw refused();
  return value.integer;
}

resource_input decode_item(document& doc, std::uint32_t item, const std::string& prefix) {
  if (doc.at(item).kind != document::type::object)
    throw bad_input(prefix.substr(0, prefix.size() - 1),
                    prefix.substr(0, prefix.size() - 1) + " must be an object");
  resource_input input;
  input.kind = string_member(doc, item, "kind", prefix, true);
  check_name(input.kind, prefix + "kind");
  input.id = string_member(doc, item, "id", prefix, true);
  check_id(input.id, prefix + "id");
  // The work job's arguments carry the object as msgpack: written in the same walk as
  // its text, the resources actor need not parse object_json again
  // (resources::work_args).
  input.object_json =
      object_member(doc, item, "object", prefix, true, &input.object_msgpack);
  if (auto found = doc.member(item, "version");
      found != 0 && doc.at(found).kind != document::type::null) {
    input.has_version = true;
    input.version = version_member(doc.at(found), prefix);
  }
  if (auto found = doc.member(item, "namespace");
      found != 0 && doc.at(found).kind != document::type::null) {
    input.namespace_name = string_member(doc, item, "namespace", prefix, true);
    check_name(input.namespace_name, prefix + "namespace");
  }
  input.tags_json = tags_member(doc, item, prefix);
  input.metadata_json = object_member(doc, item, "metadata", prefix, false);
  if (auto found = doc.member(item, "createdAt");
      found != 0 && doc.at(found).kind != document::type::null) {
    const auto& value = doc.at(found);
    std::optional<timestamp_ms> at;
    if (value.kind == document::type::string)
      at = parse_iso8601(doc.text(value));
    else if (is_integer(value) && integer_of(value) > 0)
      at = integer_of(value);
    if (!at || *at <= 0)
      throw bad_input(prefix + "createdAt",
                      prefix +
                          "createdAt must be an ISO 8601 time or epoch milliseconds");
    input.external_created_at = *at;
  }
  if (auto found = doc.member(item, "maxAttempts");
      found != 0 && doc.at(found).kind != document::type::null) {
    const auto& value = doc.at(found);
    if (!is_integer(value) || integer_of(value) < 1 || integer_of(value) > max_max_attempts)
      throw bad_input(prefix + "maxAttempts",
                      prefix + "maxAttempts must be an integer from 1 to 1000");
    input.max_attempts = static_cast<std::int32_t>(integer_of(value));
  }
  return input;
}

std::int32_t limit_of(const http_request& request) {
  const auto* text = request.query_value("limit");
  if (text == nullptr)
    return 100;
  std::int32_t limit = 0;
  bool ok = !text->empty() && text->size() <= 4;
  for (char c : *text) {
    ok = ok && c >= '0' && c <= '9';
    if (ok)
      limit = limit * 10 + (c - '0');
  }
  if (!ok || limit < 1 || limit > 1000)
    throw bad_input("limit", "limit must be an integer from 1 to 1000");
  return limit;
}

std::string optional_name(const http_request& request, const char* name) {
  const auto* value = request.query_value(name);
  if (value == nullptr || value->empty())
    return {};
  check_name(*value, name);
  return *value;
}

json resource_json(const resource_record& r) {
  json errors = json::parse(r.errors_json, nullptr, false);
  return json{{"kind", r.kind},
              {"id", r.id},
              {"state", to_string(r.state)},
              {"object", json::parse(r.object_json, nullptr, false)},
              {"version", r.has_version ? json(r.version) : json(nullptr)},
              {"hash", r.hash},
              {"namespace", r.namespace_name},
              {"tags", json::parse(r.tags_json, nullptr, false)},
              {"metadata", r.metadata_json.empty()
                               ? json(nullptr)
                               : json::parse(r.metadata_json, nullptr, false)},
              {"createdAt", r.external_created_at == 0
                                ? json(nullptr)
                                : json(format_iso8601(r.external_created_at))},
              {"attempts", r.attempts},
              {"maxAttempts", r.max_attempts},
              {"errors", errors.is_discarded() ? json::array() : errors},
              {"dirty", r.dirty},
              {"jobId", r.work_job_id.empty() ? json(nullptr) : json(r.work_job_id)},
              {"nextAttemptAt", r.next_attempt_at == 0
                                    ? json(nullptr)
                                    : json(format_iso8601(r.next_attempt_at))},
              {"updatedAt", format_iso8601(r.updated_at)}};
}

} // namespace

void check_resource_name(const std::string& value, const std::string& field) {
  check_name(value, field);
}

void check_resource_id(const std::string& value, const std::string& field) {
  check_id(value, field);
}

nlohmann::json settings_body(const http_request& request) {
  if (nests_deeper_than(request.body, 8))
    throw bad_input("body", "the body must be a JSON object");
  auto root = json::parse(request.body, nullptr, false);
  if (root.is_discarded() || !root.is_object())
    throw bad_input("body", "the body must be a JSON object");
  return root;
}

resources::setting_value setting_of(const json& root, const char* name) {
  resources::setting_value value;
  auto it = root.find(name);
  if (it == root.end() || it->is_null())
    return value;
  value.given = true;
  value.integer = it->is_number_integer();
  if (it->is_number_unsigned())
    value.value = static_cast<std::int64_t>(std::min<std::uint64_t>(
        it->get<std::uint64_t>(),
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())));
  else if (value.integer)
    value.value = it->get<std::int64_t>();
  return value;
}

resource_inform_request decode_inform(std::string_view body) {
  if (nests_deeper_than(body, max_inform_nesting))
    throw bad_input("resources", "the body nests deeper than 64 levels");
  document doc;
  if (!doc.parse(body) || doc.at(0).kind != document::type::object)
    throw bad_input("body", "the body must be a JSON object");
  resource_inform_request request;
  auto list = doc.member(0, "resources");
  if (list == 0) {
    // One resource on its own.
    request.items.push_back(decode_item(doc, 0, ""));
    return request;
  }
  std::vector<std::uint32_t> items;
  if (doc.at(list).kind == document::type::array)
    doc.for_each_child(list, [&](std::uint32_t item) { items.push_back(item); });
  if (doc.at(list).kind != document::type::array || items.empty() ||
      items.size() > max_resources_per_inform)
    throw bad_input("resources", "resources must be an array of 1 to 1000 resources");
  request.items.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i)
    request.items.push_back(
        decode_item(doc, items[i], "resources[" + std::to_string(i) + "]."));
  return request;
}

resource_query decode_resource_list(const http_request& request) {
  resource_query query;
  query.kind = optional_name(request, "kind");
  query.namespace_name = optional_name(request, "namespace");
  if (const auto* state = request.query_value("state"); state && !state->empty()) {
    resource_state parsed;
    if (!parse(*state, parsed))
      throw bad_input("state", "state must be one of scheduled, pending, synced, failed, "
                               "degraded, expired, deleted");
    query.state = *state;
  }
  query.limit = limit_of(request);
  if (const auto* cursor = request.query_value("cursor"); cursor && !cursor->empty()) {
    auto slash = cursor->find('/');
    if (slash == std::string::npos)
      throw bad_input("cursor", "cursor must be the cursor of a previous page");
    query.cursor = *cursor;
  }
  return query;
}

resource_query decode_resource_get(const http_request& request) {
  resource_query query;
  query.kind = request.param("kind");
  check_name(query.kind, "kind");
  query.id = request.param("id");
  check_id(query.id, "id");
  query.limit = 1;
  return query;
}

resource_counts_query decode_resource_counts(const http_request& request) {
  resource_counts_query query;
  query.kind = optional_name(request, "kind");
  query.namespace_name = optional_name(request, "namespace");
  return query;
}

resource_kind_request decode_resource_kind(const http_request& request) {
  resource_kind_request out;
  out.kind = request.param("kind");
  check_name(out.kind, "kind");
  if (request.method != http_method::put)
    return out;
  out.change = true;
  auto root = settings_body(request);
  // The rules are the domain's, shared with the native listener's kind_settings frame.
  resources::kind_settings_input input;
  input.backoff_base_ms = setting_of(root, "backoffBaseMs");
  input.backoff_cap_ms = setting_of(root, "backoffCapMs");
  input.timeout_seconds = setting_of(root, "timeoutSeconds");
  input.inform_interval_seconds = setting_of(root, "informIntervalSeconds");
  auto checked = resources::check_kind_settings(out.kind, input);
  if (!checked.field.empty())
    throw bad_input(checked.field, checked.message);
  out.settings = std::move(checked.settings);
  return out;
}

std::string encode_resource_kind(const resource_kind_record& kind) {
  auto or_null = [](auto value, json set) { return value == 0 ? json(nullptr) : set; };
  return json{{"kind", kind.kind},
              {"backoffBaseMs", kind.backoff_base_ms},
              {"backoffCapMs", kind.backoff_cap_ms},
              {"timeoutSeconds", kind.timeout_seconds},
              {"informIntervalSeconds",
               or_null(kind.inform_interval_seconds, json(kind.inform_interval_seconds))},
              {"lastInformedAt", or_null(kind.last_informed_at,
                                         json(format_iso8601(kind.last_informed_at)))},
              {"informError",
               kind.inform_error.empty() ? json(nullptr) : json(kind.inform_error)}}
      .dump();
}

std::string encode_inform_results(const std::vector<inform_result>& results) {
  // Written straight, not as a DOM of up to 1,000 objects; the keys in the order the
  // DOM wrote them (sorted), so the bytes stay the same.
  std::string out{"{\"results\":["};
  out.reserve(out.size() + results.size() * 64);
  for (std::size_t i = 0; i < results.size(); ++i) {
    out += i == 0 ? "{" : ",{";
    json_writer::append_key(out, "id");
    json_writer::append_string(out, results[i].id);
    out += ',';
    json_writer::append_key(out, "kind");
    json_writer::append_string(out, results[i].kind);
    out += ',';
    json_writer::append_key(out, "outcome");
    json_writer::append_string(out, results[i].outcome);
    out += '}';
  }
  out += "]}";
  return out;
}

std::string encode_resource(const resource_record& resource) {
  return resource_json(resource).dump();
}

std::string encode_resource_page(const resource_page& page) {
  auto list = json::array();
  for (const auto& r : page.items)
    list.push_back(resource_json(r));
  return json{
      {"resources", std::move(list)},
      {"cursor", page.next_cursor.empty() ? json(nullptr) : json(page.next_cursor)}}
      .dump();
}

std::string encode_resource_counts(const std::vector<resource_count>& counts) {
  json by_state = json::object();
  for (auto state :
       {resource_state::scheduled, resource_state::pending, resource_state::synced,
        resource_state::failed, resource_state::degraded, resource_state::expired,
        resource_state::deleted})
    by_state[std::string{to_string(state)}] = 0;
  for (const auto& c : counts)
    by_state[c.state] = c.count;
  return json{{"counts", std::move(by_state)}}.dump();
}

} // namespace diffplane::gateway
