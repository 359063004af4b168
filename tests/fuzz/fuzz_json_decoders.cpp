// Every route's request decoder on arbitrary input. The first byte picks the decoder (a
// letter of `decoders` below, so seeds stay readable; any other byte picks by its value),
// the rest is the request: for routes that read headers, a first line with the
// x-machine-id header, then the body. Checks the decoders' promises: input is accepted
// or refused with bad_input (nothing else may escape, and the 400 answer naming it is
// valid JSON), every accepted text is clean
// UTF-8 for Postgres and JSON, numbers are inside the contract's bounds, and what
// the encoders write of it back is valid JSON. Two letters check more than a decoder's
// promises: `D` reads the input into POST /resources' flat document and checks that it
// parses exactly what nlohmann's parser parses and writes exactly its dump() and
// to_msgpack() (decode_inform's canonical text, hash and work arguments hang on that),
// and `i` checks decode_inform's object text and msgpack against nlohmann's.
#include "gateway/http_types.hpp"
#include "gateway/inform_document.hpp"
#include "gateway/json_codecs.hpp"
#include "gateway/json_nesting.hpp"
#include "gateway/resource_codecs.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace diffplane;
using namespace diffplane::gateway;

namespace {

[[noreturn]] void broken(const char* promise, std::string_view detail) {
  std::fprintf(stderr, "broken promise: %s\n%.*s\n", promise,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void clean(std::string_view text) {
  if (!is_clean_text(text))
    broken("decoded text is clean UTF-8 without NUL", text);
}

void valid_json(const std::string& text) {
  if (!nlohmann::json::accept(text))
    broken("an encoded answer is valid JSON", text);
}

void within(double value, double min, double max, const char* what) {
  if (!(value >= min && value <= max))
    broken("a decoded number is inside the contract's bounds", what);
}

/// A request with headers (a first line: x-machine-id) and a body.
http_request with_headers(std::string_view input) {
  http_request request;
  auto newline = input.find('\n');
  auto machine = input.substr(0, newline);
  request.body = newline == std::string_view::npos ? "" : input.substr(newline + 1);
  request.headers.emplace_back("x-machine-id", std::string{machine});
  request.headers.emplace_back("x-deployment-id", "deployment-1");
  request.remote_ip = "127.0.0.1";
  return request;
}

void create_job(std::string_view input) {
  auto job = decode_create_job(input);
  for (const auto* text : {&job.service, &job.target_fn, &job.target_args, &job.cache_key,
                           &job.execution_id})
    clean(*text);
  within(job.retry_count_on_stall, 0, 1000, "retryCountOnStall");
  within(job.timeout_seconds, 1, 7 * 24 * 3600, "timeoutSeconds");
  within(job.cache_ttl_seconds, 0, 365 * 24 * 3600, "cache.ttlSeconds");
  valid_json(encode_job_id(job.execution_id));
}

void jobs_request(std::string_view input) {
  auto poll = decode_jobs_request(with_headers(input));
  clean(poll.service);
  clean(poll.machine_id);
  within(poll.limit, 1, 100000, "limit");
  within(poll.ttl_ms, 5000, 20000, "ttl");
  std::vector<dispatched_job> jobs;
  for (const auto& fn : poll.functions) {
    clean(fn);
    jobs.push_back(dispatched_job{fn, fn, poll.service});
  }
  valid_json(encode_dispatched_jobs(jobs));
}

void job_result(std::string_view input) {
  auto request = with_headers(input);
  request.params.emplace_back("jobId", "job-1");
  auto post = decode_job_result(request);
  clean(post.result);
  within(post.function_execution_time_ms, -1, 2147483647, "functionExecutionTime");
  valid_json(encode_job_status(
      job_status_row{post.job_id, job_status::success, post.type, post.result}));
}

void job_status_query(std::string_view input) {
  http_request request;
  request.params.emplace_back("jobId", "job-1");
  request.query.emplace_back("ttl", std::string{input});
  within(decode_job_status_query(request).ttl_ms, 5000, 20000, "ttl");
}

void batch_status(std::string_view input) {
  // A small limit, so that refusing too many ids is reached too.
  auto request = decode_batch_status(input, decode_limits{50});
  if (request.ids.size() > 50)
    broken("no more ids than the limit", input);
  within(request.ttl_ms, 5000, 20000, "ttl");
  std::vector<job_status_row> rows;
  for (const auto& id : request.ids) {
    clean(id);
    rows.push_back(job_status_row{id, job_status::success, result_kind::rejection, id});
  }
  valid_json(encode_job_statuses(rows));
}

void client_events(std::string_view input) {
  auto post = decode_client_events(with_headers(input));
  for (const auto& event : post.events) {
    clean(event.type);
    within(static_cast<double>(event.timestamp), 0, 253402300799999.0, "timestamp");
    if (!event.tags_json.empty())
      valid_json(event.tags_json);
    if (!event.int_fields_json.empty())
      valid_json(event.int_fields_json);
  }
}

void cluster_description(std::string_view input) {
  auto description = decode_cluster_description(input);
  clean(description);
  cluster_record cluster{"cluster-1", "sk_secret", description, 0, false, false};
  valid_json(encode_clusters({cluster}));
}

void settings(std::string_view input) {
  valid_json(encode_settings(decode_settings(input)));
}

void service_limit(std::string_view input) {
  http_request request;
  request.query.emplace_back("limit", std::string{input});
  within(decode_service_limit(request), 100, 5000, "limit");
}

std::string packed(const nlohmann::json& value) {
  auto bytes = nlohmann::json::to_msgpack(value);
  return {bytes.begin(), bytes.end()};
}

/// What the flat document writes of value `index` equals what nlohmann writes of `dom`.
void writes_as_dom(inform_document& doc, std::uint32_t index, const nlohmann::json& dom,
                   std::string_view input) {
  std::string text;
  std::string msgpack;
  doc.write(index, text, msgpack);
  if (text != dom.dump())
    broken("the document writes the text json::dump() writes", input);
  if (msgpack != packed(dom))
    broken("the document writes the msgpack json::to_msgpack() writes", input);
}

void inform_document_vs_dom(std::string_view input) {
  inform_document doc;
  const bool parsed = doc.parse(input);
  // As decode_inform parsed before the document: no exceptions, no comments.
  auto dom = nlohmann::json::parse(input, nullptr, false);
  if (parsed == dom.is_discarded()) {
    // The one difference allowed: the document refuses deeper nesting than max_depth.
    if (parsed || !nests_deeper_than(input, inform_document::max_depth))
      broken("the document parses exactly what json::parse parses", input);
    return;
  }
  if (!parsed)
    return;
  writes_as_dom(doc, 0, dom, input);
  // Every object, the ones under a duplicate key the root's text dropped too: as the
  // DOM of its own text (the reader saw no other text of it).
  for (std::uint32_t i = 1; i < doc.size(); ++i) {
    if (doc.at(i).kind != inform_document::type::object)
      continue;
    std::string text;
    std::string msgpack;
    doc.write(i, text, msgpack);
    auto again = nlohmann::json::parse(text, nullptr, false);
    if (again.is_discarded() || again.dump() != text || packed(again) != msgpack)
      broken("every object of the document writes as the DOM of its text", input);
  }
}

void inform(std::string_view input) {
  auto request = decode_inform(input);
  std::vector<inform_result> results;
  for (const auto& item : request.items) {
    for (const auto* text : {&item.kind, &item.id, &item.namespace_name, &item.object_json,
                             &item.tags_json, &item.metadata_json})
      clean(*text);
    auto object = nlohmann::json::parse(item.object_json, nullptr, false);
    if (object.is_discarded() || !object.is_object() || object.dump() != item.object_json)
      broken("an informed object's text is canonical JSON", item.object_json);
    if (item.object_msgpack != packed(object))
      broken("an informed object's msgpack is the msgpack of its text", item.object_json);
    for (const auto* text : {&item.tags_json, &item.metadata_json})
      if (!text->empty())
        valid_json(*text);
    within(static_cast<double>(item.version), 0, 9223372036854775807.0, "version");
    within(item.max_attempts, 0, 1000, "maxAttempts");
    results.push_back(inform_result{item.kind, item.id, "scheduled"});
  }
  valid_json(encode_inform_results(results));
}

using decoder = void (*)(std::string_view);
constexpr std::string_view letters = "cjrsbedSlDi";
constexpr decoder decoders[] = {create_job,          jobs_request,  job_result,
                                job_status_query,    batch_status,  client_events,
                                cluster_description, settings,      service_limit,
                                inform_document_vs_dom, inform};
static_assert(std::size(decoders) == letters.size());

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  auto pick = letters.find(static_cast<char>(data[0]));
  if (pick == std::string_view::npos)
    pick = data[0] % letters.size();
  std::string_view input{reinterpret_cast<const char*>(data) + 1, size - 1};
  try {
    decoders[pick](input);
  } catch (const bad_input& e) {
    valid_json(json_error(400, e.what(), e.field).body);
  }
  return 0;
}
