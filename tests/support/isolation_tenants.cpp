#include "isolation_tenants.hpp"

#include <random>
#include <stdexcept>

namespace diffplane::testing {

using nlohmann::json;

namespace {

/// The reply of `method target` as `t`, or throws unless it answered `status`.
cli::http_reply expect(server_fixture& f, const tenant& t, unsigned status,
                       const std::string& method, const std::string& target,
                       const std::string& body = {}) {
  auto reply = f.call(method, target, t.secret, body, {{"x-machine-id", t.machine}});
  if (reply.status != status)
    throw std::runtime_error(method + " " + target + " as " + t.name + " answered " +
                             std::to_string(reply.status) + ": " + reply.body);
  return reply;
}

std::string create(server_fixture& f, const tenant& t, const json& body) {
  return parse_json(expect(f, t, 201, "POST", "/jobs", body.dump()).body)["id"];
}

/// Polls `service` as the tenant's machine and returns the one job it was handed.
std::string take_one(server_fixture& f, const tenant& t, const std::string& service) {
  auto jobs =
      parse_json(expect(f, t, 200, "POST", "/jobs-request",
                        json{{"service", service}, {"limit", 1}, {"ttl", 5000}}.dump())
                     .body);
  if (jobs.size() != 1)
    throw std::runtime_error("a poll of " + service + " as " + t.name + " got " +
                             jobs.dump());
  return jobs[0]["id"];
}

} // namespace

std::vector<std::string> tenant::private_text() const {
  return {secret, machine, args_marker, result_marker, pending_marker, tag_marker, id};
}

std::string random_hex(std::size_t length) {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string text;
  for (std::size_t i = 0; i < length; ++i)
    text += digits[generator() % 16];
  return text;
}

json job_body(const std::string& service, const std::string& args, json call_config) {
  json body{{"service", service}, {"targetFn", "fn"}, {"targetArgs", args}};
  if (!call_config.is_null())
    body["callConfig"] = std::move(call_config);
  return body;
}

tenant make_tenant(server_fixture& f, const std::string& name) {
  tenant t;
  t.name = name;
  auto description = "isolation-" + name + "-" + random_hex(8);
  t.secret = f.create_cluster(description);
  t.id = f.cluster_with(description)["id"].get<std::string>();
  t.machine = "machine-" + name + "-" + random_hex(12);
  t.service = "svc-" + name + "-" + random_hex(6);
  t.args_marker = "args-marker-" + name + "-" + random_hex(16);
  t.result_marker = "result-marker-" + name + "-" + random_hex(16);
  t.pending_marker = "pending-marker-" + name + "-" + random_hex(16);
  t.tag_marker = "tag-marker-" + name + "-" + random_hex(16);

  json cached{{"retryCountOnStall", 1},
              {"timeoutSeconds", 300},
              {"predictiveRetriesOnRejection", false},
              {"cache", {{"key", shared_cache_key}, {"ttlSeconds", 3600}}}};
  t.done_job = create(f, t, job_body(shared_service, t.args_marker, cached));
  if (take_one(f, t, shared_service) != t.done_job)
    throw std::runtime_error("the poll did not hand out the job just created");
  expect(f, t, 204, "POST", "/jobs/" + t.done_job + "/result",
         json{{"result", t.result_marker},
              {"resultType", "resolution"},
              {"functionExecutionTime", 3}}
             .dump());
  t.running_job = create(f, t, job_body(t.service, t.args_marker));
  if (take_one(f, t, t.service) != t.running_job)
    throw std::runtime_error("the poll did not hand out the job just created");
  t.pending_job = create(f, t, job_body(t.service, t.pending_marker));
  json event{{"timestamp", 1700000000000},
             {"type", "functionInvocation"},
             {"tags", {{"marker", t.tag_marker}, {"service", t.service}}},
             {"intFields", {{"count", 1}}}};
  expect(f, t, 204, "POST", "/metrics", json{{"events", {event}}}.dump());
  return t;
}

} // namespace diffplane::testing
