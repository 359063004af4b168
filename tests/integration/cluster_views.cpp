#define CAF_SUITE cluster_views

#include "http_test_helpers.hpp"

#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <regex>
#include <sstream>
#include <thread>

using namespace diffplane;
using namespace diffplane::testing;
using nlohmann::json;

namespace {

struct fixture : server_fixture {
  std::string secret;
  std::string cluster_id;

  fixture()
      : server_fixture(
            {"--metrics-listen", "127.0.0.1:0", "--machine-stall-seconds", "3"}) {
    secret = create_cluster("views");
    cluster_id = cluster_with("views")["id"].get<std::string>();
  }

  cli::http_reply data(const std::string& method, const std::string& target,
                       const json& body, const std::string& machine = "m1") {
    return call(method, target, secret, body.is_null() ? std::string{} : body.dump(),
                {{"x-machine-id", machine}});
  }

  std::string create(const std::string& fn, int retries, int timeout) {
    json body{{"service", "billing"},
              {"targetFn", fn},
              {"targetArgs", "kA=="},
              {"callConfig",
               {{"retryCountOnStall", retries},
                {"predictiveRetriesOnRejection", false},
                {"timeoutSeconds", timeout}}}};
    return parse_json(data("POST", "/jobs", body).body)["id"].get<std::string>();
  }

  json poll(const std::string& machine) {
    json body{{"service", "billing"},
              {"limit", 10},
              {"ttl", 5000},
              {"functions", json::array({{{"name", "charge"}}, {{"name", "refund"}}})}};
    return parse_json(data("POST", "/jobs-request", body, machine).body);
  }

  void result(const std::string& id, const std::string& machine, const char* type,
              int time) {
    data("POST", "/jobs/" + id + "/result",
         json{{"result", "oA=="}, {"resultType", type}, {"functionExecutionTime", time}},
         machine);
  }

  /// Polls as `machine` until it is given jobs, for at most `deadline`.
  json poll_until_given(const std::string& machine,
                        std::chrono::seconds deadline = std::chrono::seconds{60}) {
    auto until = std::chrono::steady_clock::now() + deadline;
    auto jobs = poll(machine);
    while (jobs.empty() && std::chrono::steady_clock::now() < until)
      jobs = poll(machine);
    return jobs;
  }

  /// The entries of the cluster's activity with that type.
  int activity_count(const std::string& type) {
    int count = 0;
    for (const auto& e : view("/activity"))
      count += e["type"] == type ? 1 : 0;
    return count;
  }

  json view(const std::string& target) {
    auto reply = manage("GET", "/clusters/" + cluster_id + target);
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    return parse_json(reply.body);
  }

  /// Runs a resolved, a rejected and a stalled-then-resolved call.
  std::string run_calls() {
    auto a = create("charge", 1, 30);
    auto b = create("refund", 1, 30);
    auto slow = create("charge", 1, 1);
    CAF_REQUIRE_EQUAL(poll("m1").size(), 3u);
    result(a, "m1", "resolution", 10);
    result(b, "m1", "rejection", 30);
    // slow times out after 1 s and is queued again; each poll parks until then, for at
    // most its 5 s ttl.
    auto again = poll_until_given("m2");
    CAF_REQUIRE_EQUAL(again.size(), 1u);
    result(slow, "m1", "resolution", 1); // refused: m1 no longer holds it
    // The second attempt is dispatched as "<id>/2", where its result goes.
    CAF_REQUIRE_EQUAL(again[0]["id"].get<std::string>(), slow + "/2");
    result(again[0]["id"].get<std::string>(), "m2", "resolution", 20);
    return slow;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_views_tests, fixture)

CAF_TEST(cluster details show machines jobs and definitions) {
  run_calls();
  auto details = view("");
  CAF_REQUIRE_EQUAL(details["machines"].size(), 2u);
  for (const auto& m : details["machines"]) {
    CAF_CHECK(m["lastPingAt"].is_string());
    CAF_CHECK_EQUAL(m["ip"].get<std::string>(), "127.0.0.1");
    CAF_CHECK_EQUAL(m["pool"].get<std::string>(), "billing");
  }
  CAF_CHECK_EQUAL(details["jobs"].size(), 3u);
  CAF_REQUIRE_EQUAL(details["definitions"].size(), 1u);
  CAF_CHECK_EQUAL(details["definitions"][0]["functions"].size(), 2u);
}

CAF_TEST(the service view lists its jobs and definition) {
  run_calls();
  auto service = view("/service/billing?limit=100");
  CAF_CHECK_EQUAL(service["jobs"].size(), 3u);
  CAF_CHECK_EQUAL(service["definition"]["name"].get<std::string>(), "billing");
  auto jobs = service["jobs"];
  for (const auto& j : jobs) {
    CAF_CHECK_EQUAL(j["status"].get<std::string>(), "success");
    CAF_CHECK(j["functionExecutionTime"].is_number());
  }
  CAF_CHECK(view("/service/unknown")["definition"].is_null());
  auto bad = manage("GET", "/clusters/" + cluster_id + "/service/billing?limit=5");
  CAF_CHECK_EQUAL(bad.status, 400u);
  CAF_CHECK_EQUAL(json_field(bad.body, "field"), "limit");
}

CAF_TEST(metrics count results rejections and stalls) {
  run_calls();
  auto metrics = view("/metrics?serviceName=billing");
  std::map<std::string, json> summary;
  for (const auto& row : metrics["summary"])
    summary[row["targetFn"].get<std::string>() + "/" +
            row["resultType"].get<std::string>()] = row;
  CAF_REQUIRE_EQUAL(summary.size(), 2u);
  CAF_CHECK_EQUAL(summary["charge/resolution"]["count"].get<int>(), 2);
  CAF_CHECK_EQUAL(summary["charge/resolution"]["minExecutionTime"].get<double>(), 10.0);
  CAF_CHECK_EQUAL(summary["charge/resolution"]["maxExecutionTime"].get<double>(), 20.0);
  CAF_CHECK_EQUAL(summary["charge/resolution"]["avgExecutionTime"].get<double>(), 15.0);
  CAF_CHECK_EQUAL(summary["refund/rejection"]["count"].get<int>(), 1);
  int resulted = 0, stalled = 0, rejections = 0;
  for (const auto& bin : metrics["timeseries"]) {
    CAF_CHECK_EQUAL(bin["serviceName"].get<std::string>(), "billing");
    CAF_CHECK(bin["timeBin"].is_string());
    resulted += bin["totalJobResulted"].get<int>();
    stalled += bin["totalJobStalled"].get<int>();
    rejections += bin["rejectionCount"].get<int>();
  }
  CAF_CHECK_EQUAL(resulted, 3);
  CAF_CHECK_EQUAL(stalled, 1);
  CAF_CHECK_EQUAL(rejections, 1);
  CAF_CHECK_EQUAL(manage("GET", "/clusters/" + cluster_id + "/metrics").status, 400u);
}

CAF_TEST(the activity of a job tells its story) {
  auto slow = run_calls();
  auto entries = view("/activity?jobId=" + slow);
  std::vector<std::string> types;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) // oldest first
    types.push_back((*it)["type"].get<std::string>());
  std::ostringstream story;
  for (const auto& t : types)
    story << t << ' ';
  CAF_MESSAGE(story.str());
  auto has = [&](const char* type) {
    return std::find(types.begin(), types.end(), type) != types.end();
  };
  CAF_CHECK_EQUAL(types.front(), "jobCreated");
  CAF_CHECK(has("jobStalled"));
  CAF_CHECK(has("jobReceived"));
  CAF_CHECK(has("jobResultNotPersisted"));
  CAF_CHECK(has("jobResulted"));
  for (const auto& e : entries) {
    CAF_CHECK(e["timestamp"].is_string());
    CAF_CHECK_EQUAL(e["service"].get<std::string>(), "billing");
    if (e["type"] == "jobStalled") {
      CAF_CHECK_EQUAL(e["meta"]["reason"].get<std::string>(), "timeout");
      CAF_CHECK_EQUAL(e["machineId"].get<std::string>(), "m1");
    }
  }
}

CAF_TEST(the cluster activity shows silent machines) {
  run_calls();
  // Both machines go silent: their last polls count as life for their 5 s ttl, then
  // the 3 s stall window passes (about 8 s); the deadline leaves room for a loaded
  // machine.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds{60};
  auto machine_stalls = activity_count("machineStalled");
  while (machine_stalls < 2 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
    machine_stalls = activity_count("machineStalled");
  }
  CAF_CHECK_EQUAL(machine_stalls, 2);
}

CAF_TEST(settings can be read and changed) {
  auto settings = view("/settings");
  CAF_CHECK_EQUAL(settings["predictiveRetriesEnabled"].get<bool>(), false);
  CAF_CHECK_EQUAL(settings["cloudEnabled"].get<bool>(), false);
  auto put = call("PUT", "/clusters/" + cluster_id + "/settings", test_management_secret,
                  R"({"predictiveRetriesEnabled":true})");
  CAF_CHECK_EQUAL(put.status, 204u);
  CAF_CHECK_EQUAL(view("/settings")["predictiveRetriesEnabled"].get<bool>(), true);
  auto bad = call("PUT", "/clusters/" + cluster_id + "/settings", test_management_secret,
                  R"({"predictiveRetriesEnabled":"yes"})");
  CAF_CHECK_EQUAL(bad.status, 400u);
  CAF_CHECK_EQUAL(call("GET", "/clusters/" + cluster_id + "/settings", secret).status,
                  401u);
}

CAF_TEST(one job can be shown and unknown ones are 404) {
  auto slow = run_calls();
  auto job = view("/jobs/" + slow);
  CAF_CHECK_EQUAL(job["status"].get<std::string>(), "success");
  CAF_CHECK_EQUAL(job["attempts"].get<int>(), 2);
  CAF_CHECK_EQUAL(job["machineId"].get<std::string>(), "m2");
  CAF_CHECK(job["activity"].size() >= 4u);
  // The console shows payload sizes without their contents: "kA==" and "oA==".
  CAF_CHECK_EQUAL(job["targetArgsBytes"].get<int>(), 4);
  CAF_CHECK_EQUAL(job["resultBytes"].get<int>(), 4);
  CAF_CHECK_EQUAL(manage("GET", "/clusters/" + cluster_id + "/jobs/nope").status, 404u);
  CAF_CHECK_EQUAL(manage("GET", "/clusters/nope/activity").status, 404u);
  CAF_CHECK_EQUAL(manage("GET", "/clusters/nope/settings").status, 404u);
}

CAF_TEST(the operator port serves parseable Prometheus metrics) {
  run_calls();
  const std::vector<std::string> expected{
      "diffplane_jobs_created_total 3",
      "diffplane_jobs_stalled_total 1",
      "diffplane_jobs_running 0",
      "diffplane_jobs_pending 0",
      "diffplane_parked_long_polls",
      "diffplane_actors_alive",
      "diffplane_persistence_commit_seconds_bucket",
      "diffplane_http_requests_total{route=\"/jobs\",method=\"POST\",code=\"2xx\"} 3"};
  auto shows_all = [&](const std::string& body) {
    return std::all_of(expected.begin(), expected.end(), [&](const std::string& name) {
      return body.find(name) != std::string::npos;
    });
  };
  // Gauges move when the actors hear of a change, which can be just after the worker got
  // its 204: scrape until they settle, for a few seconds at most.
  cli::http_client operator_client{server.metrics_endpoint()};
  auto reply = operator_client.request("GET", "/metrics");
  for (int i = 0; i < 50 && reply.status == 200u && !shows_all(reply.body); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    reply = operator_client.request("GET", "/metrics");
  }
  CAF_REQUIRE_EQUAL(reply.status, 200u);
  std::regex sample{
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.e+Inf-]+$)"};
  std::istringstream lines{reply.body};
  int samples = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0)
      continue;
    CAF_CHECK(std::regex_match(line, sample));
    if (!std::regex_match(line, sample))
      CAF_MESSAGE("not a sample: " << line);
    ++samples;
  }
  CAF_CHECK_GREATER(samples, 20);
  for (const auto& name : expected) {
    CAF_CHECK(reply.body.find(name) != std::string::npos);
    if (reply.body.find(name) == std::string::npos)
      CAF_MESSAGE("not in the scrape: " << name);
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
