#include "gateway/json_codecs.hpp"

#include "gateway/json_fields.hpp"
#include "gateway/json_nesting.hpp"
#include "gateway/json_writer.hpp"
#include "persistence/iso8601.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

namespace diffplane::gateway {

using nlohmann::json;

namespace {

/// Longest id, name or key we accept; bodies are bounded separately.
constexpr std::size_t max_name_length = 1024;

/// 9999-12-31T23:59:59.999Z as epoch milliseconds: the last time a client may send.
constexpr timestamp_ms latest_storable_time = 253402300799999;

/// Epoch milliseconds from a JSON number, or nothing when it is no such time (a double
/// past the range of timestamp_ms must not be cast: that is undefined behaviour).
std::optional<timestamp_ms> epoch_ms_of(double value) {
  if (!std::isfinite(value) || value < 0 ||
      value > static_cast<double>(latest_storable_time))
    return std::nullopt;
  return static_cast<timestamp_ms>(value);
}

json parse_object(std::string_view body) {
  // The document would cost hundreds of bytes per level: refuse deep bodies unread.
  if (nests_deeper_than(body, max_control_body_nesting))
    throw bad_input("body", "the body nests arrays or objects deeper than " +
                                std::to_string(max_control_body_nesting) + " levels");
  auto value = json::parse(body, nullptr, false);
  if (value.is_discarded())
    throw bad_input("body", "the body is not valid JSON");
  if (!value.is_object())
    throw bad_input("body", "the body must be a JSON object");
  return value;
}

/// Postgres text holds neither NUL nor invalid UTF-8; nothing we store may contain them.
void check_storable(const std::string& field, std::string_view value) {
  if (!is_clean_text(value))
    throw bad_input(field, field + " must be UTF-8 text without NUL characters");
}

/// A member of a DOM object as the decoders of json_fields see it.
json_field field_of(const json& object, const char* key) {
  json_field field;
  auto it = object.find(key);
  if (it == object.end())
    return field;
  if (it->is_null()) {
    field.type = json_field::kind::null;
  } else if (it->is_string()) {
    field.type = json_field::kind::string;
    field.text = it->get<std::string>();
  } else if (it->is_number()) {
    field.type = json_field::kind::number;
    field.number = it->get<double>();
  } else if (it->is_boolean()) {
    field.type = json_field::kind::boolean;
    field.flag = it->get<bool>();
  } else {
    field.type = it->is_object() ? json_field::kind::object : json_field::kind::other;
  }
  return field;
}

bool missing(const json_field& field) {
  return field.type == json_field::kind::absent || field.type == json_field::kind::null;
}

/// The string `field` holds, checked; `name` is the field's path in error messages.
std::string string_of(json_field field, const std::string& name, bool required,
                      bool allow_empty = true,
                      std::size_t max_length = std::numeric_limits<std::size_t>::max()) {
  if (missing(field)) {
    if (required)
      throw bad_input(name, name + " is required");
    return {};
  }
  if (field.type != json_field::kind::string)
    throw bad_input(name, name + " must be a string");
  if (!allow_empty && field.text.empty())
    throw bad_input(name, name + " must not be empty");
  if (field.text.size() > max_length)
    throw bad_input(name, name + " must be at most " + std::to_string(max_length) +
                              " characters");
  check_storable(name, field.text);
  return std::move(field.text);
}

/// The number `field` holds, also from a numeric string when `coerce` (the contract's
/// z.coerce.number()); nothing when absent or null.
std::optional<double> number_of(const json_field& field, const std::string& name,
                                bool coerce) {
  if (missing(field))
    return std::nullopt;
  double value = 0;
  if (field.type == json_field::kind::number) {
    value = field.number;
  } else if (coerce && field.type == json_field::kind::string) {
    char* end = nullptr;
    value = std::strtod(field.text.c_str(), &end);
    if (field.text.empty() || end != field.text.c_str() + field.text.size())
      throw bad_input(name, name + " must be a number");
  } else {
    throw bad_input(name, name + " must be a number");
  }
  if (!std::isfinite(value))
    throw bad_input(name, name + " must be a finite number");
  return value;
}

std::string field_name(const std::string& path, const char* key) {
  return path.empty() ? std::string{key} : path + "." + key;
}

std::string get_string(const json& object, const std::string& path, const char* key,
                       bool required, bool allow_empty = true,
                       std::size_t max_length = std::numeric_limits<std::size_t>::max()) {
  return string_of(field_of(object, key), field_name(path, key), required, allow_empty,
                   max_length);
}

std::optional<double> get_number(const json& object, const std::string& path,
                                 const char* key, bool coerce) {
  return number_of(field_of(object, key), field_name(path, key), coerce);
}

/// Reads `body` into `fields`, or throws the DOM decoders' errors.
void read_object(std::string_view body, json_fields& fields) {
  switch (read_json_fields(body, fields)) {
  case json_read::ok:
    return;
  case json_read::invalid:
    throw bad_input("body", "the body is not valid JSON");
  case json_read::not_an_object:
    throw bad_input("body", "the body must be a JSON object");
  }
}

std::int32_t whole(double value, const std::string& field, double min, double max) {
  if (value < min || value > max)
    throw bad_input(field, field + " must be between " +
                               std::to_string(static_cast<long long>(min)) + " and " +
                               std::to_string(static_cast<long long>(max)));
  return static_cast<std::int32_t>(std::floor(value));
}

/// The contract's long-poll ttl: 5000..20000 ms, 20000 by default.
std::int32_t ttl_of(std::optional<double> ttl) {
  if (!ttl)
    return 20000;
  return whole(*ttl, "ttl", 5000, 20000);
}

std::optional<double> number_from_text(const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

std::string required_header(const http_request& request, std::string_view name) {
  auto value = request.header(name);
  if (value.empty())
    throw bad_input(std::string{name},
                    "the " + std::string{name} + " header is required");
  if (value.size() > max_name_length)
    throw bad_input(std::string{name},
                    "the " + std::string{name} + " header is too long");
  std::string text{value};
  check_storable(std::string{name}, text);
  return text;
}

std::string optional_header(const http_request& request, std::string_view name) {
  std::string text{request.header(name)};
  if (text.size() > max_name_length)
    throw bad_input(std::string{name},
                    "the " + std::string{name} + " header is too long");
  check_storable(std::string{name}, text);
  return text;
}

json nullable(const std::string& value) {
  return value.empty() ? json(nullptr) : json(value);
}

json result_type_json(result_kind kind) {
  return kind == result_kind::none ? json(nullptr) : json(std::string{to_string(kind)});
}

} // namespace

create_job_request decode_create_job(std::string_view body) {
  json_fields cache{"key", "ttlSeconds"};
  json_fields config{
      "retryCountOnStall", "timeoutSeconds", "predictiveRetriesOnRejection",
      "executionId",       "background",     "cache"};
  config.nest("cache", cache);
  json_fields fields{"targetFn", "targetArgs", "service", "callConfig"};
  fields.nest("callConfig", config);
  read_object(body, fields);

  create_job_request request;
  request.target_fn =
      string_of(fields["targetFn"], "targetFn", true, false, max_name_length);
  request.target_args = string_of(fields["targetArgs"], "targetArgs", true);
  request.service = string_of(fields["service"], "service", true, false, max_name_length);
  const auto& config_field = fields["callConfig"];
  if (missing(config_field))
    return request;
  if (config_field.type != json_field::kind::object)
    throw bad_input("callConfig", "callConfig must be an object");
  auto retry =
      number_of(config["retryCountOnStall"], "callConfig.retryCountOnStall", false);
  if (!retry)
    throw bad_input("callConfig.retryCountOnStall",
                    "callConfig.retryCountOnStall is required");
  request.retry_count_on_stall = whole(*retry, "callConfig.retryCountOnStall", 0, 1000);
  auto timeout = number_of(config["timeoutSeconds"], "callConfig.timeoutSeconds", false);
  if (!timeout)
    throw bad_input("callConfig.timeoutSeconds", "callConfig.timeoutSeconds is required");
  request.timeout_seconds =
      whole(*timeout, "callConfig.timeoutSeconds", 1, 7 * 24 * 3600);
  const auto& predictive = config["predictiveRetriesOnRejection"];
  if (predictive.type != json_field::kind::boolean)
    throw bad_input("callConfig.predictiveRetriesOnRejection",
                    "callConfig.predictiveRetriesOnRejection must be a boolean");
  request.predictive_retries_on_rejection = predictive.flag;
  if (!missing(config["executionId"])) {
    request.execution_id = string_of(config["executionId"], "callConfig.executionId",
                                     true, false, max_name_length);
    if (request.execution_id.find('/') != std::string::npos)
      throw bad_input("callConfig.executionId",
                      "callConfig.executionId must not contain '/'");
  }
  const auto& background = config["background"];
  if (!missing(background)) {
    if (background.type != json_field::kind::boolean)
      throw bad_input("callConfig.background", "callConfig.background must be a boolean");
    request.background = background.flag;
  }
  const auto& cache_field = config["cache"];
  if (!missing(cache_field)) {
    if (cache_field.type != json_field::kind::object)
      throw bad_input("callConfig.cache", "callConfig.cache must be an object");
    request.cache_key =
        string_of(cache["key"], "callConfig.cache.key", true, false, max_name_length);
    auto ttl = number_of(cache["ttlSeconds"], "callConfig.cache.ttlSeconds", false);
    if (!ttl)
      throw bad_input("callConfig.cache.ttlSeconds",
                      "callConfig.cache.ttlSeconds is required");
    request.cache_ttl_seconds =
        whole(*ttl, "callConfig.cache.ttlSeconds", 0, 365 * 24 * 3600);
  }
  return request;
}

jobs_request decode_jobs_request(const http_request& http) {
  jobs_request request;
  request.machine_id = required_header(http, "x-machine-id");
  request.deployment_id = optional_header(http, "x-deployment-id");
  request.ip = http.remote_ip;
  auto object = parse_object(http.body);
  request.service = get_string(object, "", "service", true, false, max_name_length);
  if (auto limit = get_number(object, "", "limit", true))
    request.limit = whole(*limit, "limit", 1, 100000);
  request.ttl_ms = ttl_of(get_number(object, "", "ttl", true));
  auto functions = object.find("functions");
  if (functions != object.end() && !functions->is_null()) {
    if (!functions->is_array())
      throw bad_input("functions", "functions must be an array");
    request.announces_functions = true;
    for (std::size_t i = 0; i < functions->size(); ++i) {
      const auto& f = (*functions)[i];
      auto path = "functions[" + std::to_string(i) + "]";
      if (!f.is_object())
        throw bad_input(path, path + " must be an object");
      request.functions.push_back(
          get_string(f, path, "name", true, false, max_name_length));
    }
  }
  return request;
}

/// The attempt named by the result route: the number after the job id in the id a poll
/// dispatched ("<jobId>/<attempt>"); without one, the first attempt.
std::int32_t attempt_of(const http_request& http) {
  const auto& text = http.param("attempt");
  if (text.empty())
    return 1;
  std::int32_t attempt = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), attempt);
  if (ec != std::errc{} || end != text.data() + text.size() || attempt < 1)
    throw bad_input("attempt",
                    "the attempt after the job id must be a whole number from 1 "
                    "(post to the id the poll dispatched)");
  return attempt;
}

job_result_post decode_job_result(const http_request& http) {
  job_result_post post;
  post.job_id = http.param("jobId");
  post.attempt = attempt_of(http);
  post.machine_id = required_header(http, "x-machine-id");
  post.deployment_id = optional_header(http, "x-deployment-id");
  post.ip = http.remote_ip;
  json_fields fields{"result", "resultType", "functionExecutionTime"};
  read_object(http.body, fields);
  post.result = string_of(fields["result"], "result", true);
  auto type = string_of(fields["resultType"], "resultType", true);
  if (!parse(type, post.type) || post.type == result_kind::none)
    throw bad_input("resultType", "resultType must be 'resolution' or 'rejection'");
  if (auto time =
          number_of(fields["functionExecutionTime"], "functionExecutionTime", false))
    post.function_execution_time_ms = whole(*time, "functionExecutionTime", 0,
                                            std::numeric_limits<std::int32_t>::max());
  return post;
}

status_request decode_job_status_query(const http_request& http) {
  status_request request;
  request.single = true;
  request.ids.push_back(http.param("jobId"));
  if (const auto* ttl = http.query_value("ttl")) {
    auto value = number_from_text(*ttl);
    if (!value)
      throw bad_input("ttl", "ttl must be a number");
    request.ttl_ms = ttl_of(value);
  }
  return request;
}

namespace {

/// Reads {"jobIds": [...], "ttl": n} without building a DOM: callers send every
/// unresolved id in each status poll, so this runs for thousands of ids per second.
class batch_status_reader : public nlohmann::json_sax<json> {
public:
  explicit batch_status_reader(const decode_limits& limits) : limits_(limits) {}

  status_request request;
  bool saw_ids = false;
  std::optional<double> ttl;
  std::optional<bad_input> error;

  bool null() override { return value("null"); }
  bool boolean(bool) override { return value("a boolean"); }
  bool number_integer(number_integer_t v) override {
    return number(static_cast<double>(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    return number(static_cast<double>(v));
  }
  bool number_float(number_float_t v, const string_t&) override { return number(v); }
  bool binary(binary_t&) override { return value("binary"); }

  bool string(string_t& text) override {
    if (in_ids()) {
      if (request.ids.size() >= limits_.batch_status_max_ids)
        return fail("jobIds", "jobIds has more than " +
                                  std::to_string(limits_.batch_status_max_ids) +
                                  " ids; at most that many are accepted");
      request.ids.push_back(std::move(text));
      return true;
    }
    if (depth_ == 1 && key_ == "ttl") {
      auto parsed = number_from_text(text);
      if (!parsed)
        return fail("ttl", "ttl must be a number");
      ttl = parsed;
      return true;
    }
    return value("a string");
  }

  bool start_object(std::size_t) override {
    if (depth_ == 0) {
      ++depth_;
      return true;
    }
    if (in_ids())
      return fail("jobIds", "jobIds must be an array of strings");
    ++depth_;
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool key(string_t& name) override {
    if (depth_ == 1)
      key_ = std::move(name);
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0)
      return fail("body", "the body must be a JSON object");
    if (in_ids())
      return fail("jobIds", "jobIds must be an array of strings");
    if (depth_ == 1 && key_ == "jobIds") {
      saw_ids = true;
      ids_open_ = true;
    }
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    if (depth_ == 1)
      ids_open_ = false;
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception&) override {
    if (!error)
      error = bad_input("body", "the body is not valid JSON");
    return false;
  }

private:
  bool in_ids() const { return ids_open_ && depth_ == 2; }

  bool number(double v) {
    if (depth_ == 1 && key_ == "ttl") {
      ttl = v;
      return true;
    }
    return value("a number");
  }

  bool value(const char* what) {
    if (depth_ == 0)
      return fail("body", "the body must be a JSON object");
    if (in_ids())
      return fail("jobIds",
                  std::string{"jobIds must be an array of strings, not hold "} + what);
    if (depth_ == 1 && key_ == "jobIds")
      return fail("jobIds", "jobIds must be an array of strings");
    return true;
  }

  bool fail(const std::string& field, const std::string& message) {
    error = bad_input(field, message);
    return false;
  }

  const decode_limits& limits_;
  int depth_ = 0;
  std::string key_;
  bool ids_open_ = false;
};

} // namespace

status_request decode_batch_status(std::string_view body, const decode_limits& limits) {
  batch_status_reader reader{limits};
  json::sax_parse(body, &reader);
  if (reader.error)
    throw *reader.error;
  if (!reader.saw_ids)
    throw bad_input("jobIds", "jobIds must be an array of strings");
  for (const auto& id : reader.request.ids)
    check_storable("jobIds", id);
  reader.request.ttl_ms = ttl_of(reader.ttl);
  return std::move(reader.request);
}

client_events_post decode_client_events(const http_request& http) {
  client_events_post post;
  auto machine = required_header(http, "x-machine-id");
  auto deployment = optional_header(http, "x-deployment-id");
  auto object = parse_object(http.body);
  auto events = object.find("events");
  if (events == object.end() || !events->is_array())
    throw bad_input("events", "events must be an array");
  for (std::size_t i = 0; i < events->size(); ++i) {
    const auto& e = (*events)[i];
    auto path = "events[" + std::to_string(i) + "]";
    if (!e.is_object())
      throw bad_input(path, path + " must be an object");
    client_event_record record;
    record.machine_id = machine;
    record.deployment_id = deployment;
    record.type = get_string(e, path, "type", true);
    if (record.type != "machineResourceProbe" && record.type != "functionInvocation")
      throw bad_input(path + ".type",
                      path +
                          ".type must be 'machineResourceProbe' or 'functionInvocation'");
    auto timestamp = e.find("timestamp");
    std::optional<timestamp_ms> when;
    if (timestamp != e.end() && timestamp->is_string())
      when = parse_iso8601(timestamp->get<std::string>());
    else if (timestamp != e.end() && timestamp->is_number())
      when = epoch_ms_of(timestamp->get<double>());
    // Years 1970 to 9999 only: anything else is a client's bug, and a time Postgres
    // cannot store would fail the group commit that carries it.
    if (!when || *when < 0 || *when > latest_storable_time)
      throw bad_input(path + ".timestamp",
                      path + ".timestamp must be a date between 1970 and 9999");
    record.timestamp = *when;
    auto tags = e.find("tags");
    if (tags != e.end() && !tags->is_null()) {
      if (!tags->is_object())
        throw bad_input(path + ".tags", path + ".tags must be an object of strings");
      for (const auto& [key, value] : tags->items()) {
        if (!value.is_string())
          throw bad_input(path + ".tags." + key,
                          path + ".tags." + key + " must be a string");
        check_storable(path + ".tags", key);
        check_storable(path + ".tags." + key, value.get_ref<const std::string&>());
      }
      record.tags_json = tags->dump();
    }
    auto fields = e.find("intFields");
    if (fields != e.end() && !fields->is_null()) {
      if (!fields->is_object())
        throw bad_input(path + ".intFields",
                        path + ".intFields must be an object of numbers");
      for (const auto& [key, value] : fields->items())
        if (check_storable(path + ".intFields", key); !value.is_number())
          throw bad_input(path + ".intFields." + key,
                          path + ".intFields." + key + " must be a number");
      record.int_fields_json = fields->dump();
    }
    post.events.push_back(std::move(record));
  }
  return post;
}

std::string decode_cluster_description(std::string_view body) {
  auto blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (blank)
    return {};
  auto object = parse_object(body);
  return get_string(object, "", "description", false, true, 10000);
}

cluster_settings decode_settings(std::string_view body) {
  auto object = parse_object(body);
  auto enabled = object.find("predictiveRetriesEnabled");
  if (enabled == object.end() || !enabled->is_boolean())
    throw bad_input("predictiveRetriesEnabled",
                    "predictiveRetriesEnabled must be a boolean");
  cluster_settings settings;
  settings.predictive_retries_enabled = enabled->get<bool>();
  return settings;
}

std::int32_t decode_service_limit(const http_request& request) {
  const auto* limit = request.query_value("limit");
  if (limit == nullptr)
    return 2000;
  auto value = number_from_text(*limit);
  if (!value)
    throw bad_input("limit", "limit must be a number");
  return whole(*value, "limit", 100, 5000);
}

namespace {

json definition_json(const service_record& definition) {
  auto functions = json::array();
  for (const auto& f : definition.functions)
    functions.push_back({{"name", f}});
  return json{{"name", definition.name}, {"functions", std::move(functions)}};
}

json job_summaries_json(const std::vector<job_summary>& jobs) {
  auto array = json::array();
  for (const auto& j : jobs)
    array.push_back(
        {{"id", j.id},
         {"targetFn", j.target_fn},
         {"service", nullable(j.service)},
         {"status", std::string{to_string(j.status)}},
         {"resultType", result_type_json(j.result_type)},
         {"createdAt", format_iso8601(j.created_at)},
         {"functionExecutionTime", j.function_execution_time_ms < 0
                                       ? json(nullptr)
                                       : json(j.function_execution_time_ms)}});
  return array;
}

json activity_json(const std::vector<event_record>& entries) {
  auto array = json::array();
  for (const auto& e : entries) {
    json meta = nullptr;
    if (!e.meta_json.empty())
      meta = json::parse(e.meta_json, nullptr, false);
    if (meta.is_discarded())
      meta = nullptr;
    array.push_back({{"type", e.type},
                     {"jobId", nullable(e.job_id)},
                     {"meta", std::move(meta)},
                     {"machineId", nullable(e.machine_id)},
                     {"deploymentId", nullable(e.deployment_id)},
                     {"timestamp", format_iso8601(e.created_at)},
                     {"service", nullable(e.service)}});
  }
  return array;
}

} // namespace

std::string encode_service_details(const service_details& details) {
  return to_json_text(
      json{{"jobs", job_summaries_json(details.jobs)},
           {"definition", details.has_definition ? definition_json(details.definition)
                                                 : json(nullptr)}});
}

std::string encode_settings(const cluster_settings& settings) {
  return to_json_text(
      json{{"predictiveRetriesEnabled", settings.predictive_retries_enabled},
           {"cloudEnabled", settings.cloud_enabled}});
}

std::string encode_activity(const std::vector<event_record>& entries) {
  return to_json_text(activity_json(entries));
}

std::string encode_metrics(const function_metrics& metrics) {
  auto summary = json::array();
  for (const auto& s : metrics.summary)
    summary.push_back({{"targetFn", s.target_fn},
                       {"resultType", std::string{to_string(s.result_type)}},
                       {"count", s.count},
                       {"avgExecutionTime", s.avg_execution_time},
                       {"minExecutionTime", s.min_execution_time},
                       {"maxExecutionTime", s.max_execution_time}});
  auto timeseries = json::array();
  for (const auto& bin : metrics.timeseries)
    timeseries.push_back({{"timeBin", format_iso8601(bin.bin)},
                          {"serviceName", bin.service},
                          {"avgExecutionTime", bin.avg_execution_time},
                          {"totalJobResulted", bin.resulted},
                          {"totalJobStalled", bin.stalled},
                          {"rejectionCount", bin.rejections}});
  return to_json_text(
      json{{"summary", std::move(summary)}, {"timeseries", std::move(timeseries)}});
}

std::string encode_job_detail(const job_detail& detail) {
  const auto& j = detail.job;
  auto time = [](timestamp_ms ms) {
    return ms == 0 ? json(nullptr) : json(format_iso8601(ms));
  };
  return to_json_text(json{
      {"id", j.id},
      {"service", j.service},
      {"targetFn", j.target_fn},
      {"status", std::string{to_string(j.status)}},
      {"resultType", result_type_json(j.result_type)},
      {"result", j.result_type == result_kind::none ? json(nullptr) : json(j.result)},
      // Sizes of the payloads as stored (the SDK's base64 text): the console shows
      // these and fetches no contents unless asked.
      {"targetArgsBytes", j.target_args.size()},
      {"resultBytes",
       j.result_type == result_kind::none ? json(nullptr) : json(j.result.size())},
      {"attempts", j.attempts_used},
      {"maxAttempts", j.max_attempts},
      {"timeoutSeconds", j.timeout_seconds},
      {"cacheKey", nullable(j.cache_key)},
      {"background", j.background},
      {"machineId", nullable(j.executing_machine_id)},
      {"functionExecutionTime", j.function_execution_time_ms < 0
                                    ? json(nullptr)
                                    : json(j.function_execution_time_ms)},
      {"createdAt", format_iso8601(j.created_at)},
      {"lastDispatchedAt", time(j.last_dispatched_at)},
      {"resultedAt", time(j.resulted_at)},
      {"activity", activity_json(detail.activity)}});
}

std::string encode_job_id(const std::string& id) {
  std::string out = "{\"id\":";
  json_writer::append_string(out, id);
  out += '}';
  return out;
}

std::string encode_dispatched_jobs(const std::vector<dispatched_job>& jobs) {
  std::string out = "[";
  for (const auto& job : jobs) {
    if (out.size() > 1)
      out += ',';
    out += "{\"id\":";
    // A later attempt is told apart by its number: the worker posts the result to
    // /jobs/<id>/result, so it reaches the route with the attempt in the path.
    json_writer::append_string(
        out, job.attempt > 1 ? job.id + '/' + std::to_string(job.attempt) : job.id);
    out += ",\"targetFn\":";
    json_writer::append_string(out, job.target_fn);
    out += ",\"targetArgs\":";
    json_writer::append_string(out, job.target_args);
    out += '}';
  }
  out += ']';
  return out;
}

namespace {

void append_status_fields(std::string& out, const job_status_row& row) {
  out += "\"status\":\"";
  out += to_string(row.status);
  out += "\",\"result\":";
  json_writer::append_string_or_null(out, row.result,
                                     row.result_type == result_kind::none);
  out += ",\"resultType\":";
  if (row.result_type == result_kind::none) {
    out += "null";
  } else {
    out += '"';
    out += to_string(row.result_type);
    out += '"';
  }
}

} // namespace

std::string encode_job_status(const job_status_row& row) {
  std::string out = "{";
  append_status_fields(out, row);
  out += '}';
  return out;
}

std::string encode_job_statuses(const std::vector<job_status_row>& rows) {
  std::string out;
  out.reserve(rows.size() * 96);
  out += '[';
  for (const auto& row : rows) {
    if (out.size() > 1)
      out += ',';
    out += "{\"id\":";
    json_writer::append_string(out, row.id);
    out += ',';
    append_status_fields(out, row);
    out += '}';
  }
  out += ']';
  return out;
}

std::string encode_clusters(const std::vector<cluster_record>& clusters) {
  auto array = json::array();
  for (const auto& c : clusters)
    array.push_back({{"id", c.id},
                     {"apiSecret", c.api_secret},
                     {"createdAt", format_iso8601(c.created_at)},
                     {"description", nullable(c.description)}});
  return to_json_text(array);
}

std::string encode_nodes(const membership_view& view) {
  auto iso_or_null = [](timestamp_ms ms) {
    return ms == 0 ? json(nullptr) : json(format_iso8601(ms));
  };
  // Where other nodes reach it; null for a node that publishes no CAF port (a node
  // alone).
  auto caf_address = [](const node_row& n) {
    if (n.caf_host.empty() || n.caf_port == 0)
      return json(nullptr);
    auto host =
        n.caf_host.find(':') == std::string::npos ? n.caf_host : "[" + n.caf_host + "]";
    return json(host + ":" + std::to_string(n.caf_port));
  };
  auto nodes = json::array();
  for (const auto& n : view.nodes) {
    auto clusters = json::array();
    for (const auto& lease : view.leases)
      if (lease.node_id == n.id && !lease.expired)
        clusters.push_back(lease.cluster_id);
    nodes.push_back({{"id", n.id},
                     {"httpAddress", n.http_address},
                     {"cafAddress", caf_address(n)},
                     {"startedAt", iso_or_null(n.started_at)},
                     {"heartbeatAt", iso_or_null(n.heartbeat_at)},
                     {"clusters", std::move(clusters)}});
  }
  auto leases = json::array();
  for (const auto& lease : view.leases)
    leases.push_back({{"clusterId", lease.cluster_id},
                      {"nodeId", nullable(lease.node_id)},
                      {"epoch", lease.epoch},
                      {"expired", lease.expired},
                      {"expiresAt", iso_or_null(lease.expires_at)}});
  return to_json_text(json{{"nodes", std::move(nodes)}, {"leases", std::move(leases)}});
}

std::string encode_cluster_details(const cluster_details& details) {
  auto machines = json::array();
  for (const auto& m : details.machines)
    machines.push_back(
        {{"id", m.id},
         {"description", nullptr},
         {"pool", nullable(m.service)},
         {"lastPingAt",
          m.last_ping_at == 0 ? json(nullptr) : json(format_iso8601(m.last_ping_at))},
         {"ip", nullable(m.ip)},
         {"deploymentId", nullable(m.deployment_id)}});
  auto definitions = json::array();
  for (const auto& d : details.definitions)
    definitions.push_back(definition_json(d));
  return to_json_text(json{{"id", details.cluster.id},
                           {"description", nullable(details.cluster.description)},
                           {"apiSecret", details.cluster.api_secret},
                           {"createdAt", format_iso8601(details.cluster.created_at)},
                           {"machines", std::move(machines)},
                           {"jobs", job_summaries_json(details.jobs)},
                           {"definitions", std::move(definitions)},
                           {"deployments", json::array()}});
}

} // namespace diffplane::gateway
