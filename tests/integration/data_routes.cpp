#define CAF_SUITE data_routes

#include "http_test_helpers.hpp"
#include "metrics_scrape.hpp"

#include <caf/test/unit_test.hpp>

#include <future>

using namespace diffplane;
using namespace diffplane::testing;
using nlohmann::json;

namespace {

/// How soon after the request that wakes it returns a parked long-poll must be answered:
/// generous for a loaded machine, far below the 20 s ttl at which a poll that was never
/// woken would be answered.
constexpr auto prompt_answer = std::chrono::seconds{2};

struct fixture : server_fixture {
  // A metrics port, for wait_for_parked.
  fixture() : server_fixture({"--metrics-listen", "127.0.0.1:0"}) {}

  std::string secret = create_cluster("data");

  cli::http_reply data(const std::string& method, const std::string& target,
                       const std::string& body = {}, const std::string& machine = {}) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!machine.empty())
      headers.emplace_back("x-machine-id", machine);
    return call(method, target, secret, body, headers);
  }

  std::string create(const json& body) {
    auto reply = data("POST", "/jobs", body.dump());
    CAF_REQUIRE_EQUAL(reply.status, 201u);
    return parse_json(reply.body)["id"].get<std::string>();
  }

  json poll(const std::string& machine, int limit = 10, int ttl = 5000,
            json functions = nullptr) {
    json body{{"service", "svc"}, {"limit", limit}, {"ttl", ttl}};
    if (!functions.is_null())
      body["functions"] = functions;
    auto reply = data("POST", "/jobs-request", body.dump(), machine);
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    return parse_json(reply.body);
  }

  static json job(const std::string& fn = "echo") {
    return json{{"service", "svc"}, {"targetFn", fn}, {"targetArgs", "kaNhcmc="}};
  }
};

std::string field_of(const cli::http_reply& reply) {
  return json_field(reply.body, "field");
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(data_routes_tests, fixture)

CAF_TEST(a job goes round trip over HTTP) {
  auto id = create(job());
  auto jobs = poll("m1");
  CAF_REQUIRE_EQUAL(jobs.size(), 1u);
  CAF_CHECK_EQUAL(jobs[0]["id"].get<std::string>(), id);
  CAF_CHECK_EQUAL(jobs[0]["targetFn"].get<std::string>(), "echo");
  CAF_CHECK_EQUAL(jobs[0]["targetArgs"].get<std::string>(), "kaNhcmc=");
  auto posted = data(
      "POST", "/jobs/" + id + "/result",
      R"({"result":"oWs=","resultType":"resolution","functionExecutionTime":4})", "m1");
  CAF_CHECK_EQUAL(posted.status, 204u);
  auto status = data("GET", "/jobs/" + id + "?ttl=5000");
  CAF_REQUIRE_EQUAL(status.status, 200u);
  auto row = parse_json(status.body);
  CAF_CHECK_EQUAL(row["status"].get<std::string>(), "success");
  CAF_CHECK_EQUAL(row["result"].get<std::string>(), "oWs=");
  CAF_CHECK_EQUAL(row["resultType"].get<std::string>(), "resolution");
  auto batch = data("POST", "/batch-jobs-status-request",
                    json{{"jobIds", {id, "unknown"}}, {"ttl", 5000}}.dump());
  CAF_REQUIRE_EQUAL(batch.status, 200u);
  auto rows = parse_json(batch.body);
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0]["id"].get<std::string>(), id);
  CAF_CHECK_EQUAL(rows[0]["status"].get<std::string>(), "success");
}

CAF_TEST(data routes need a valid API secret) {
  CAF_CHECK_EQUAL(call("POST", "/jobs", "", job().dump()).status, 401u);
  CAF_CHECK_EQUAL(call("POST", "/jobs", "sk_nope", job().dump()).status, 401u);
  CAF_CHECK_EQUAL(call("POST", "/jobs", test_management_secret, job().dump()).status,
                  401u);
  CAF_CHECK_EQUAL(
      call("POST", "/jobs-request", "sk_nope", "{}", {{"x-machine-id", "m"}}).status,
      401u);
}

CAF_TEST(create bodies are checked field by field) {
  auto missing = data("POST", "/jobs", R"({"service":"svc","targetArgs":"a"})");
  CAF_CHECK_EQUAL(missing.status, 400u);
  CAF_CHECK_EQUAL(field_of(missing), "targetFn");
  auto wrong =
      data("POST", "/jobs", R"({"service":"svc","targetFn":3,"targetArgs":"a"})");
  CAF_CHECK_EQUAL(field_of(wrong), "targetFn");
  auto config = job();
  config["callConfig"] =
      json{{"retryCountOnStall", 1}, {"predictiveRetriesOnRejection", false}};
  auto no_timeout = data("POST", "/jobs", config.dump());
  CAF_CHECK_EQUAL(no_timeout.status, 400u);
  CAF_CHECK_EQUAL(field_of(no_timeout), "callConfig.timeoutSeconds");
  config["callConfig"]["timeoutSeconds"] = 10;
  config["callConfig"]["cache"] = json{{"key", "k"}};
  CAF_CHECK_EQUAL(field_of(data("POST", "/jobs", config.dump())),
                  "callConfig.cache.ttlSeconds");
  CAF_CHECK_EQUAL(field_of(data("POST", "/jobs", "[1,2]")), "body");
  CAF_CHECK_EQUAL(field_of(data("POST", "/jobs", "not json")), "body");
  auto nul = job();
  nul["targetArgs"] = std::string{"a\0b", 3};
  CAF_CHECK_EQUAL(field_of(data("POST", "/jobs", nul.dump())), "targetArgs");
}

CAF_TEST(worker routes need a machine id and a ttl in range) {
  auto no_machine = data("POST", "/jobs-request", R"({"service":"svc"})");
  CAF_CHECK_EQUAL(no_machine.status, 400u);
  CAF_CHECK_EQUAL(field_of(no_machine), "x-machine-id");
  auto short_ttl = data("POST", "/jobs-request", R"({"service":"svc","ttl":100})", "m");
  CAF_CHECK_EQUAL(short_ttl.status, 400u);
  CAF_CHECK_EQUAL(field_of(short_ttl), "ttl");
  auto bad_type =
      data("POST", "/jobs/x/result", R"({"result":"a","resultType":"maybe"})", "m");
  CAF_CHECK_EQUAL(field_of(bad_type), "resultType");
  CAF_CHECK_EQUAL(data("GET", "/jobs/x?ttl=1").status, 400u);
}

CAF_TEST(text that Postgres or JSON cannot hold is refused and harms nothing) {
  auto bad_machine = call("POST", "/jobs-request", secret, R"({"service":"svc"})",
                          {{"x-machine-id", std::string{"m\xff\xfe"}}});
  CAF_CHECK_EQUAL(bad_machine.status, 400u);
  CAF_CHECK_EQUAL(field_of(bad_machine), "x-machine-id");
  CAF_CHECK_EQUAL(data("GET", "/jobs/%FF%FE?ttl=5000").status, 400u);
  json events{{"events",
               {{{"timestamp", "2026-11-23T10:00:00.000Z"},
                 {"type", "functionInvocation"},
                 {"tags", {{"function", std::string{"f\0g", 3}}}}}}}};
  auto nul = data("POST", "/metrics", events.dump(), "m1");
  CAF_CHECK_EQUAL(nul.status, 400u);
  CAF_CHECK_EQUAL(field_of(nul), "events[0].tags.function");
  // The gateway is unharmed: management views, health and jobs still answer.
  auto id = cluster_with("data")["id"].get<std::string>();
  CAF_CHECK_EQUAL(manage("GET", "/clusters/" + id).status, 200u);
  CAF_CHECK_EQUAL(call("GET", "/live", "").status, 200u);
  create(job());
}

CAF_TEST(unknown jobs are 404) {
  CAF_CHECK_EQUAL(data("GET", "/jobs/nope?ttl=5000").status, 404u);
  CAF_CHECK_EQUAL(data("POST", "/jobs/nope/result",
                       R"({"result":"a","resultType":"resolution"})", "m")
                      .status,
                  404u);
}

CAF_TEST(a parked poll is answered as soon as a job is created) {
  auto parked = std::async(std::launch::async, [this] {
    auto jobs = poll("m1", 10, 20000);
    return std::make_pair(jobs, std::chrono::steady_clock::now());
  });
  wait_for_parked(server, 1);
  auto id = create(job());
  auto created_at = std::chrono::steady_clock::now();
  auto [jobs, answered_at] = parked.get();
  CAF_REQUIRE_EQUAL(jobs.size(), 1u);
  CAF_CHECK_EQUAL(jobs[0]["id"].get<std::string>(), id);
  CAF_CHECK_LESS(answered_at - created_at, prompt_answer);
}

CAF_TEST(an empty poll is answered at its ttl) {
  auto started = std::chrono::steady_clock::now();
  auto jobs = poll("m1", 10, 5000);
  auto waited = std::chrono::steady_clock::now() - started;
  CAF_CHECK(jobs.empty());
  CAF_CHECK_GREATER_OR_EQUAL(waited, std::chrono::milliseconds{4900});
  CAF_CHECK_LESS(waited, std::chrono::milliseconds{7000});
}

CAF_TEST(a status long poll returns when the job finishes) {
  auto id = create(job());
  poll("m1");
  auto waiting = std::async(std::launch::async, [this, id] {
    auto reply = data("POST", "/batch-jobs-status-request",
                      json{{"jobIds", {id}}, {"ttl", 20000}}.dump());
    return std::make_pair(reply, std::chrono::steady_clock::now());
  });
  wait_for_parked(server, 1);
  auto posted = data("POST", "/jobs/" + id + "/result",
                     R"({"result":"wg==","resultType":"rejection"})", "m1");
  auto posted_at = std::chrono::steady_clock::now();
  CAF_CHECK_EQUAL(posted.status, 204u);
  auto [reply, answered_at] = waiting.get();
  CAF_CHECK_LESS(answered_at - posted_at, prompt_answer);
  auto rows = parse_json(reply.body);
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0]["status"].get<std::string>(), "success");
  CAF_CHECK_EQUAL(rows[0]["resultType"].get<std::string>(), "rejection");
}

CAF_TEST(an execution id is idempotent and a cache key is reused) {
  auto body = job();
  body["callConfig"] = json{{"retryCountOnStall", 0},
                            {"predictiveRetriesOnRejection", false},
                            {"timeoutSeconds", 30},
                            {"executionId", "order-42"}};
  CAF_CHECK_EQUAL(create(body), "order-42");
  CAF_CHECK_EQUAL(create(body), "order-42");
  CAF_CHECK_EQUAL(poll("m1").size(), 1u);

  auto cached = job("cached");
  cached["callConfig"] = json{{"retryCountOnStall", 0},
                              {"predictiveRetriesOnRejection", false},
                              {"timeoutSeconds", 30},
                              {"cache", {{"key", "k"}, {"ttlSeconds", 60}}}};
  auto first = create(cached);
  poll("m1");
  data("POST", "/jobs/" + first + "/result",
       R"({"result":"wg==","resultType":"resolution"})", "m1");
  CAF_CHECK_EQUAL(create(cached), first);
}

CAF_TEST(polls record machines and definitions in the cluster details) {
  poll("machine-7", 1, 5000, json::array({{{"name", "a"}}, {{"name", "b"}}}));
  auto id = cluster_with("data")["id"].get<std::string>();
  auto details = parse_json(manage("GET", "/clusters/" + id).body);
  CAF_REQUIRE_EQUAL(details["machines"].size(), 1u);
  CAF_CHECK_EQUAL(details["machines"][0]["id"].get<std::string>(), "machine-7");
  CAF_CHECK_EQUAL(details["machines"][0]["ip"].get<std::string>(), "127.0.0.1");
  CAF_CHECK_EQUAL(details["machines"][0]["pool"].get<std::string>(), "svc");
  CAF_REQUIRE_EQUAL(details["definitions"].size(), 1u);
  CAF_CHECK_EQUAL(details["definitions"][0]["name"].get<std::string>(), "svc");
  CAF_CHECK_EQUAL(details["definitions"][0]["functions"].size(), 2u);
}

CAF_TEST(metrics events are accepted and checked) {
  json events{{"events",
               {{{"timestamp", "2026-11-23T10:00:00.000Z"},
                 {"type", "functionInvocation"},
                 {"tags", {{"function", "f"}}},
                 {"intFields", {{"roundTripTime", 12}}}}}}};
  CAF_CHECK_EQUAL(data("POST", "/metrics", events.dump(), "m1").status, 204u);
  events["events"][0]["type"] = "other";
  auto bad = data("POST", "/metrics", events.dump(), "m1");
  CAF_CHECK_EQUAL(bad.status, 400u);
  CAF_CHECK_EQUAL(field_of(bad), "events[0].type");
}

CAF_TEST(batch requests over the configured bound are refused) {
  std::vector<std::string> ids(20001, "x");
  auto reply = data("POST", "/batch-jobs-status-request", json{{"jobIds", ids}}.dump());
  CAF_CHECK_EQUAL(reply.status, 400u);
  CAF_CHECK_EQUAL(field_of(reply), "jobIds");
  std::vector<std::string> many(5000, "unknown");
  auto fine = data("POST", "/batch-jobs-status-request",
                   json{{"jobIds", many}, {"ttl", 5000}}.dump());
  CAF_CHECK_EQUAL(fine.status, 200u);
}

CAF_TEST_FIXTURE_SCOPE_END()
