#define CAF_SUITE log_secrets

// A server logging at its most verbose level is driven through every kind of call, good
// and bad, with known secrets and payload markers; its whole output (stderr and stdout)
// must contain none of them. Payloads are tenants' data and secrets are credentials:
// neither belongs in a log that operators ship elsewhere.

#include "isolation_tenants.hpp"

#include <caf/test/unit_test.hpp>

using namespace diffplane;
using namespace diffplane::testing;
using nlohmann::json;

namespace {

struct fixture : server_fixture {
  fixture() : server_fixture({"--log-level", "trace"}) {}
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(log_secrets_tests, fixture)

CAF_TEST(no secret and no payload reaches the log at trace level) {
  auto a = make_tenant(*this, "A");
  auto b = make_tenant(*this, "B");
  std::vector<std::string> secrets{test_management_secret, a.secret, b.secret};
  std::vector<std::string> markers;
  for (const auto* t : {&a, &b})
    for (const auto& m :
         {t->args_marker, t->result_marker, t->pending_marker, t->tag_marker})
      markers.push_back(m);
  auto marker = [&markers](const std::string& what) {
    markers.push_back(what + "-marker-" + random_hex(16));
    return markers.back();
  };
  auto wrong = [&secrets](const std::string& prefix) {
    secrets.push_back(prefix + random_hex(24));
    return secrets.back();
  };

  // Wrong secrets on data and management routes.
  CAF_CHECK_EQUAL(
      call("POST", "/jobs", wrong("sk_"), job_body("svc", marker("x")).dump()).status,
      401u);
  CAF_CHECK_EQUAL(call("GET", "/clusters", wrong("sk_management_")).status, 401u);
  CAF_CHECK_EQUAL(call("GET", "/clusters/" + a.id, a.secret).status, 401u);
  // Bad bodies that carry payloads: every field in turn is the one refused.
  CAF_CHECK_EQUAL(
      call("POST", "/jobs", a.secret,
           json{{"service", "svc"}, {"targetFn", 7}, {"targetArgs", marker("fn")}}.dump())
          .status,
      400u);
  CAF_CHECK_EQUAL(
      call("POST", "/jobs", a.secret,
           job_body("svc", marker("config"), json{{"retryCountOnStall", -1}}).dump())
          .status,
      400u);
  CAF_CHECK_EQUAL(
      call("POST", "/jobs", a.secret, "{\"targetArgs\":\"" + marker("broken") + "\",")
          .status,
      400u);
  CAF_CHECK_EQUAL(call("POST", "/jobs/" + a.done_job + "/result", a.secret,
                       json{{"result", marker("type")}, {"resultType", "maybe"}}.dump(),
                       {{"x-machine-id", a.machine}})
                      .status,
                  400u);
  // A result from a machine that does not hold the job, one for a finished job, one for
  // an unknown job: refused, recorded as activity, answered without error.
  auto refused = json{{"result", marker("refused")}, {"resultType", "resolution"}}.dump();
  CAF_CHECK_EQUAL(call("POST", "/jobs/" + a.running_job + "/result", a.secret, refused,
                       {{"x-machine-id", "machine-other"}})
                      .status,
                  204u);
  CAF_CHECK_EQUAL(call("POST", "/jobs/" + a.done_job + "/result", a.secret, refused,
                       {{"x-machine-id", a.machine}})
                      .status,
                  204u);
  CAF_CHECK_EQUAL(call("POST", "/jobs/unknown-job/result", a.secret, refused,
                       {{"x-machine-id", a.machine}})
                      .status,
                  404u);
  // A rejection result and status reads that return payloads.
  CAF_CHECK_EQUAL(
      call("POST", "/jobs/" + b.running_job + "/result", b.secret,
           json{{"result", marker("rejection")}, {"resultType", "rejection"}}.dump(),
           {{"x-machine-id", b.machine}})
          .status,
      204u);
  CAF_CHECK_EQUAL(call("POST", "/batch-jobs-status-request", b.secret,
                       json{{"jobIds", b.job_ids()}, {"ttl", 5000}}.dump())
                      .status,
                  200u);
  CAF_CHECK_EQUAL(call("GET", "/jobs/" + a.done_job + "?ttl=5000", a.secret).status,
                  200u);
  // The management views that show payloads and secrets.
  for (const auto& target :
       {std::string{"/clusters"}, "/clusters/" + a.id,
        "/clusters/" + a.id + "/jobs/" + a.done_job, "/clusters/" + a.id + "/activity",
        "/clusters/" + b.id + "/service/" + b.service})
    CAF_CHECK_EQUAL(manage("GET", target).status, 200u);
  // A client's line break stays inside the request's own log line.
  call("GET", "/jobs/x%0Aforged-log-line%0D%1B", a.secret);
  CAF_CHECK_EQUAL(server.stop(), 0);

  auto log = server.log();
  // The log was as verbose as it gets: every request is in it.
  CAF_CHECK(log.find("event=request") != std::string::npos);
  CAF_CHECK(log.find("event=shutdown_complete") != std::string::npos);
  // The scan sees what is logged: request paths carry job ids, which are no secret.
  CAF_CHECK(log.find(a.done_job) != std::string::npos);
  CAF_CHECK(log.find("x\\nforged-log-line\\r\\x1b") != std::string::npos);
  CAF_CHECK(log.find("\nforged-log-line") == std::string::npos);
  CAF_MESSAGE(log.size() << " bytes of log scanned for " << secrets.size()
                         << " secrets and " << markers.size() << " payload markers");
  for (const auto& secret : secrets)
    if (log.find(secret) != std::string::npos)
      CAF_FAIL("the log shows a secret: " << secret);
  for (const auto& m : markers)
    if (log.find(m) != std::string::npos)
      CAF_FAIL("the log shows a payload: " << m);
}

CAF_TEST_FIXTURE_SCOPE_END()
