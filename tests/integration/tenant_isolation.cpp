#define CAF_SUITE tenant_isolation

// Every route of the gateway, called with no secret, wrong secrets and the other
// cluster's secret on the ids of both clusters: 401 or 404 (or the caller's own,
// separate data), and never a byte of the other cluster's data. The routes come from
// the router's own table, so a route added without a row here fails the test.

#include "isolation_tenants.hpp"

#include "gateway/actor_bridge.hpp"
#include "gateway/routes.hpp"

#include <caf/test/unit_test.hpp>

#include <functional>
#include <map>
#include <set>

using namespace diffplane;
using namespace diffplane::testing;
using nlohmann::json;

namespace {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// A bridge that is never called: it only lets the real route table be built.
class unused_bridge : public gateway::actor_bridge {
  void authenticate(const std::string&,
                    gateway::callback<gateway::cluster_ref>) override {}
  void create_cluster(std::string, gateway::callback<cluster_record>) override {}
  void list_clusters(gateway::callback<std::vector<cluster_record>>) override {}
  void cluster_details(std::string,
                       gateway::callback<diffplane::cluster_details>) override {}
  void service_details(std::string, service_details_request,
                       gateway::callback<diffplane::service_details>) override {}
  void settings(std::string, gateway::callback<cluster_settings>) override {}
  void change_settings(std::string, cluster_settings, gateway::callback<bool>) override {}
  void activity(std::string, activity_query,
                gateway::callback<std::vector<event_record>>) override {}
  void service_metrics(std::string, metrics_query,
                       gateway::callback<function_metrics>) override {}
  void job_detail(std::string, std::string,
                  gateway::callback<diffplane::job_detail>) override {}
  void live(gateway::callback<bool>) override {}
  void nodes(gateway::callback<membership_view>) override {}
  void create_job(const gateway::cluster_ref&, create_job_request,
                  gateway::callback<std::string>) override {}
  void request_jobs(const gateway::cluster_ref&, jobs_request,
                    gateway::callback<std::vector<dispatched_job>>) override {}
  void post_result(const gateway::cluster_ref&, job_result_post,
                   gateway::callback<bool>) override {}
  void job_statuses(const gateway::cluster_ref&, status_request,
                    gateway::callback<std::vector<job_status_row>>) override {}
  void post_client_events(const gateway::cluster_ref&, client_events_post,
                          gateway::callback<bool>) override {}
  void machine_gone(const gateway::cluster_ref&, std::string) override {}
  void machine_alive(const gateway::cluster_ref&, std::string) override {}
  void release_long_polls() override {}
};

/// "METHOD /pattern" of every route the server's port serves.
std::set<std::string> served_routes() {
  unused_bridge bridge;
  gateway::router routes;
  gateway::route_context context{bridge, test_management_secret, {}, {}};
  gateway::add_api_routes(routes, context);
  auto table = routes.table();
  return {table.begin(), table.end()};
}

/// Who a route lets in.
enum class guard { api_secret, management_secret, none };

/// One request, built for the ids of a victim tenant.
struct probe {
  std::string method;
  std::string target;
  std::string body;
  header_list headers;
};

struct route_case {
  std::string route;
  guard auth;
  /// The requests on `victim`'s ids; `other` is the caller when it is a tenant.
  std::function<std::vector<probe>(const tenant& victim)> probes;
  /// Status when the other tenant calls with its own API secret (api_secret routes).
  unsigned cross_status = 404;
  /// For `none` routes: the status for anyone.
  unsigned open_status = 200;
};

probe with_machine(probe p, const tenant& victim) {
  p.headers.emplace_back("x-machine-id", victim.machine);
  return p;
}

/// Every route with the requests that aim at a victim's data. The order is the order
/// of the calls: creates come last, since they add jobs under the victim's ids.
std::vector<route_case> route_cases() {
  std::vector<route_case> cases;
  auto per_job = [](const std::string& method, const std::string& suffix,
                    const std::string& body, bool machine) {
    return [=](const tenant& v) {
      std::vector<probe> out;
      for (const auto& job : v.job_ids()) {
        probe p{method, "/jobs/" + job + suffix, body, {}};
        out.push_back(machine ? with_machine(p, v) : p);
      }
      return out;
    };
  };
  cases.push_back({"POST /jobs/:jobId/result", guard::api_secret,
                   per_job("POST", "/result",
                           R"({"result":"bm9wZQ==","resultType":"resolution"})", true)});
  // The id of a later attempt ("<jobId>/2") as a worker posts it.
  cases.push_back({"POST /jobs/:jobId/:attempt/result", guard::api_secret,
                   per_job("POST", "/2/result",
                           R"({"result":"bm9wZQ==","resultType":"resolution"})", true)});
  cases.push_back(
      {"GET /jobs/:jobId", guard::api_secret, per_job("GET", "?ttl=5000", "", false)});
  cases.push_back({"POST /batch-jobs-status-request", guard::api_secret,
                   [](const tenant& v) {
                     return std::vector<probe>{
                         {"POST",
                          "/batch-jobs-status-request",
                          json{{"jobIds", v.job_ids()}, {"ttl", 5000}}.dump(),
                          {}}};
                   },
                   200});
  cases.push_back(
      {"POST /jobs-request", guard::api_secret,
       [](const tenant& v) {
         return std::vector<probe>{with_machine(
             {"POST",
              "/jobs-request",
              json{{"service", v.service}, {"limit", 10}, {"ttl", 5000}}.dump(),
              {}},
             v)};
       },
       200});
  cases.push_back(
      {"POST /metrics", guard::api_secret,
       [](const tenant& v) {
         json event{{"timestamp", 1700000000000},
                    {"type", "functionInvocation"},
                    {"tags", {{"service", v.service}, {"jobId", v.done_job}}}};
         return std::vector<probe>{
             with_machine({"POST", "/metrics", json{{"events", {event}}}.dump(), {}}, v)};
       },
       204});

  auto on_cluster = [](const std::string& method, const std::string& suffix,
                       const std::string& body = {}) {
    return [=](const tenant& v) {
      return std::vector<probe>{{method, "/clusters/" + v.id + suffix, body, {}}};
    };
  };
  auto management = [&](const std::string& route, const std::string& method,
                        const std::string& suffix, const std::string& body = {}) {
    cases.push_back({route, guard::management_secret, on_cluster(method, suffix, body)});
  };
  cases.push_back({"GET /clusters", guard::management_secret, [](const tenant&) {
                     return std::vector<probe>{{"GET", "/clusters", "", {}}};
                   }});
  cases.push_back({"GET /nodes", guard::management_secret, [](const tenant&) {
                     return std::vector<probe>{{"GET", "/nodes", "", {}}};
                   }});
  cases.push_back({"POST /clusters", guard::management_secret, [](const tenant&) {
                     return std::vector<probe>{
                         {"POST", "/clusters", R"({"description":"intruder"})", {}}};
                   }});
  management("GET /clusters/:clusterId", "GET", "");
  cases.push_back(
      {"GET /clusters/:clusterId/service/:serviceName", guard::management_secret,
       [](const tenant& v) {
         return std::vector<probe>{
             {"GET", "/clusters/" + v.id + "/service/" + v.service, "", {}},
             {"GET", "/clusters/" + v.id + "/service/" + shared_service, "", {}}};
       }});
  management("GET /clusters/:clusterId/metrics", "GET", "/metrics?serviceName=svc");
  cases.push_back(
      {"GET /clusters/:clusterId/activity", guard::management_secret,
       [](const tenant& v) {
         return std::vector<probe>{
             {"GET", "/clusters/" + v.id + "/activity", "", {}},
             {"GET", "/clusters/" + v.id + "/activity?jobId=" + v.done_job, "", {}}};
       }});
  cases.push_back(
      {"GET /clusters/:clusterId/jobs/:jobId", guard::management_secret,
       [](const tenant& v) {
         std::vector<probe> out;
         for (const auto& job : v.job_ids())
           out.push_back({"GET", "/clusters/" + v.id + "/jobs/" + job, "", {}});
         return out;
       }});
  management("GET /clusters/:clusterId/settings", "GET", "/settings");
  management("PUT /clusters/:clusterId/settings", "PUT", "/settings",
             R"({"predictiveRetriesEnabled":true,"cloudEnabled":true})");
  for (const char* method : {"GET", "POST"})
    cases.push_back(
        {std::string{method} + " /clusters/:clusterId/service/:serviceName/deployments",
         guard::management_secret, [method](const tenant& v) {
           return std::vector<probe>{
               {method,
                "/clusters/" + v.id + "/service/" + v.service + "/deployments",
                "{}",
                {}}};
         }});
  cases.push_back(
      {"GET /clusters/:clusterId/service/:serviceName/deployments/:deploymentId",
       guard::management_secret, [](const tenant& v) {
         return std::vector<probe>{
             {"GET",
              "/clusters/" + v.id + "/service/" + v.service + "/deployments/d1",
              "",
              {}}};
       }});
  cases.push_back(
      {"POST /clusters/:clusterId/service/:serviceName/deployments/:deploymentId/release",
       guard::management_secret, [](const tenant& v) {
         return std::vector<probe>{
             {"POST",
              "/clusters/" + v.id + "/service/" + v.service + "/deployments/d1/release",
              "{}",
              {}}};
       }});
  management("POST /clusters/:clusterId/client-libraries", "POST", "/client-libraries",
             "{}");
  management("GET /clusters/:clusterId/client-libraries", "GET", "/client-libraries");
  management("POST /clusters/:clusterId/assets", "POST", "/assets", "{}");

  auto open = [&](const std::string& method, const std::string& target, unsigned status) {
    route_case c{method + " " + target, guard::none, [=](const tenant&) {
                   return std::vector<probe>{{method, target, "", {}}};
                 }};
    c.open_status = status;
    return c;
  };
  cases.push_back(open("GET", "/live", 200));
  cases.push_back(open("GET", "/contract", 200));
  cases.push_back(open("POST", "/events/sns", 501));
  auto npm = open("GET", "/packages/npm/:packageName", 501);
  npm.probes = [](const tenant&) {
    return std::vector<probe>{{"GET", "/packages/npm/core", "", {}}};
  };
  cases.push_back(npm);
  auto npm_version = open("GET", "/packages/npm/:packageName/:version", 501);
  npm_version.probes = [](const tenant&) {
    return std::vector<probe>{{"GET", "/packages/npm/core/1.0.0", "", {}}};
  };
  cases.push_back(npm_version);

  // Resources: the other cluster reads its own (none) under the victim's ids, and an
  // inform under them creates its own resource.
  cases.push_back(
      {"GET /resources/:kind/:id", guard::api_secret, [](const tenant& v) {
         return std::vector<probe>{{"GET", "/resources/user/" + v.done_job, "", {}}};
       }});
  // Invalidate and delete under the victim's ids find nothing of the caller's: 404.
  cases.push_back({"POST /resources/:kind/:id/invalidate", guard::api_secret,
                   [](const tenant& v) {
                     return std::vector<probe>{
                         {"POST", "/resources/user/" + v.done_job + "/invalidate", "", {}}};
                   }});
  cases.push_back({"DELETE /resources/:kind/:id", guard::api_secret, [](const tenant& v) {
                     return std::vector<probe>{
                         {"DELETE", "/resources/user/" + v.done_job, "", {}}};
                   }});
  for (const char* method : {"GET", "PUT"})
    cases.push_back({std::string{method} + " /resources-namespaces/:name",
                     guard::api_secret,
                     [method](const tenant&) {
                       return std::vector<probe>{
                           {method, "/resources-namespaces/default",
                            std::string{method} == "PUT" ? R"({"maxWorkers":5})" : "",
                            {}}};
                     },
                     200});
  cases.push_back({"GET /resources", guard::api_secret,
                   [](const tenant&) {
                     return std::vector<probe>{{"GET", "/resources?kind=user", "", {}}};
                   },
                   200});
  cases.push_back(
      {"GET /resources/events", guard::api_secret,
       [](const tenant&) {
         return std::vector<probe>{{"GET", "/resources/events?ttl=0", "", {}}};
       },
       200});
  cases.push_back({"GET /resources-counts", guard::api_secret,
                   [](const tenant&) {
                     return std::vector<probe>{{"GET", "/resources-counts", "", {}}};
                   },
                   200});
  for (const char* method : {"GET", "PUT"})
    cases.push_back({std::string{method} + " /resources-kinds/:kind", guard::api_secret,
                     [method](const tenant&) {
                       return std::vector<probe>{{method,
                                                  "/resources-kinds/user",
                                                  std::string{method} == "PUT"
                                                      ? R"({"timeoutSeconds":60})"
                                                      : "",
                                                  {}}};
                     },
                     200});
  cases.push_back({"POST /resources", guard::api_secret,
                   [](const tenant& v) {
                     json body{{"kind", "user"},
                               {"id", v.done_job},
                               {"object", {{"intruder", true}}}};
                     return std::vector<probe>{{"POST", "/resources", body.dump(), {}}};
                   },
                   200});

  // Creates, last. With the victim's job id as execution id, the caller gets a job of
  // its own under that id; with the victim's cache key, a new job, not the victim's.
  cases.push_back(
      {"POST /jobs", guard::api_secret,
       [](const tenant& v) {
         json config{{"retryCountOnStall", 1},
                     {"timeoutSeconds", 300},
                     {"predictiveRetriesOnRejection", false}};
         auto by_id = config;
         by_id["executionId"] = v.done_job;
         auto by_cache = config;
         by_cache["cache"] = {{"key", shared_cache_key}, {"ttlSeconds", 3600}};
         return std::vector<probe>{
             {"POST", "/jobs", job_body(shared_service, "intruder", by_id).dump(), {}},
             {"POST",
              "/jobs",
              job_body(shared_service, "intruder", by_cache).dump(),
              {}}};
       },
       201});
  return cases;
}

/// The secrets that are not the victim's: none, malformed, near misses, the management
/// secret on data routes.
std::vector<std::pair<std::string, header_list>> wrong_credentials(const tenant& victim) {
  auto near_miss = victim.secret;
  near_miss.back() = near_miss.back() == 'a' ? 'b' : 'a';
  std::vector<std::pair<std::string, header_list>> out{
      {"no secret", {}},
      {"an empty token", {{"Authorization", "Basic "}}},
      {"no scheme", {{"Authorization", victim.secret}}},
      {"a random secret", {{"Authorization", "Basic sk_" + random_hex(32)}}},
      {"a near miss", {{"Authorization", "Basic " + near_miss}}},
      {"a prefix",
       {{"Authorization", "Basic " + victim.secret.substr(0, victim.secret.size() - 1)}}},
  };
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return !part.empty() && text.find(part) != std::string::npos;
}

struct fixture : server_fixture {
  tenant a = make_tenant(*this, "A");
  tenant b = make_tenant(*this, "B");
  std::size_t calls = 0;

  cli::http_reply send(const probe& p, const header_list& credentials) {
    auto headers = p.headers;
    headers.insert(headers.end(), credentials.begin(), credentials.end());
    ++calls;
    return server.client().request(p.method, p.target, p.body, headers);
  }

  /// Checks that `reply` holds nothing of `victim` that the request did not name.
  void check_no_leak(const tenant& victim, const probe& p, const cli::http_reply& reply,
                     const std::string& who) {
    auto asked = p.target + " " + p.body;
    auto leaked = victim.private_text();
    auto ids = victim.job_ids();
    leaked.insert(leaked.end(), ids.begin(), ids.end());
    for (const auto& text : leaked)
      if (contains(reply.body, text) && !contains(asked, text))
        CAF_FAIL(p.method << " " << p.target << " by " << who << " showed " << victim.name
                          << "'s '" << text << "': " << reply.body);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(tenant_isolation_tests, fixture)

CAF_TEST(every route of the gateway is in the isolation matrix) {
  auto served = served_routes();
  std::set<std::string> covered;
  for (const auto& c : route_cases())
    covered.insert(c.route);
  for (const auto& route : served)
    if (covered.count(route) == 0)
      CAF_FAIL("route " << route << " has no row in the isolation matrix");
  for (const auto& route : covered)
    if (served.count(route) == 0)
      CAF_FAIL("the matrix names " << route << ", which the gateway does not serve");
  CAF_CHECK_EQUAL(served.size(), covered.size());
  CAF_MESSAGE(served.size() << " routes");
}

CAF_TEST(no secret a wrong secret or the other cluster secret never reaches a cluster) {
  auto matrix = route_cases();
  for (const auto& c : matrix) {
    for (auto [victim, other] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      for (const auto& p : c.probes(*victim)) {
        for (const auto& [what, credentials] : wrong_credentials(*victim)) {
          auto reply = send(p, credentials);
          auto expected = c.auth == guard::none ? c.open_status : 401u;
          if (reply.status != expected)
            CAF_FAIL(p.method << " " << p.target << " with " << what << " answered "
                              << reply.status << " instead of " << expected << ": "
                              << reply.body);
          check_no_leak(*victim, p, reply, what);
          check_no_leak(*other, p, reply, what);
        }
        // The other cluster's API secret: its own, separate data, or 401 on management.
        auto reply = send(p, {{"Authorization", "Basic " + other->secret}});
        auto expected = c.auth == guard::api_secret          ? c.cross_status
                        : c.auth == guard::management_secret ? 401u
                                                             : c.open_status;
        if (reply.status != expected)
          CAF_FAIL(p.method << " " << p.target << " on " << victim->name << "'s ids with "
                            << other->name << "'s secret answered " << reply.status
                            << " instead of " << expected << ": " << reply.body);
        check_no_leak(*victim, p, reply, other->name + "'s secret");
        if (c.route == "POST /jobs-request" ||
            c.route == "POST /batch-jobs-status-request")
          CAF_CHECK_EQUAL(reply.body, "[]");
      }
    }
  }
  CAF_MESSAGE(calls << " calls");

  for (const auto* t : {&a, &b}) {
    // Each cluster's jobs are as they were: nothing was finished, taken or replaced.
    auto status = [&](const std::string& job) {
      return parse_json(call("GET", "/jobs/" + job + "?ttl=5000", t->secret).body);
    };
    auto done = status(t->done_job);
    CAF_CHECK_EQUAL(done["status"].get<std::string>(), "success");
    CAF_CHECK_EQUAL(done["result"].get<std::string>(), t->result_marker);
    // With the finished job among them, the answer comes at once.
    auto rows = parse_json(call("POST", "/batch-jobs-status-request", t->secret,
                                json{{"jobIds", t->job_ids()}, {"ttl", 5000}}.dump())
                               .body);
    CAF_CHECK_EQUAL(rows.size(), 3u);
    auto polled = parse_json(
        call("POST", "/jobs-request", t->secret,
             json{{"service", t->service}, {"limit", 10}, {"ttl", 5000}}.dump(),
             {{"x-machine-id", t->machine}})
            .body);
    CAF_REQUIRE_EQUAL(polled.size(), 1u);
    CAF_CHECK_EQUAL(polled[0]["id"].get<std::string>(), t->pending_job);
    CAF_CHECK_EQUAL(polled[0]["targetArgs"].get<std::string>(), t->pending_marker);
  }
}

CAF_TEST(the management secret sees a cluster through its own ids only) {
  for (auto [mine, theirs] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    auto base = "/clusters/" + mine->id;
    for (const auto& job : theirs->job_ids())
      CAF_CHECK_EQUAL(manage("GET", base + "/jobs/" + job).status, 404u);
    std::vector<std::string> views{base,
                                   base + "/service/" + shared_service,
                                   base + "/service/" + theirs->service,
                                   base + "/metrics?serviceName=" + shared_service,
                                   base + "/activity",
                                   base + "/activity?jobId=" + theirs->done_job};
    for (const auto& view : views) {
      auto reply = manage("GET", view);
      CAF_CHECK(reply.status == 200u || reply.status == 404u);
      check_no_leak(*theirs, probe{"GET", view, "", {}}, reply, "the management secret");
    }
    // Its own view does show its own jobs: the check above is not vacuous.
    auto own = manage("GET", base + "/jobs/" + mine->done_job);
    CAF_CHECK_EQUAL(own.status, 200u);
    CAF_CHECK(contains(own.body, mine->result_marker));
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
