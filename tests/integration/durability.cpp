#define CAF_SUITE durability

#include "http_test_helpers.hpp"
#include "metrics_scrape.hpp"

#include <caf/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <future>
#include <set>

using namespace diffplane;
using namespace diffplane::testing;
using nlohmann::json;

namespace {

/// A server that can be killed and started again on the same database.
struct fixture {
  std::string url = create_test_database();
  /// Flags of every start; a test may change them before a restart.
  std::vector<std::string> flags;
  std::unique_ptr<server_process> server = start();
  std::string secret = create_cluster_on(*server, "durable");

  std::unique_ptr<server_process> start() {
    auto args = server_args(url, flags);
    // A metrics port, for wait_for_parked.
    args.insert(args.end(), {"--metrics-listen", "127.0.0.1:0"});
    return std::make_unique<server_process>(std::move(args));
  }

  void crash_and_restart() {
    server->kill();
    server = start();
  }

  void restart_with(std::vector<std::string> new_flags) {
    flags = std::move(new_flags);
    CAF_REQUIRE_EQUAL(server->stop(), 0);
    server = start();
  }

  cli::http_reply data(const std::string& method, const std::string& target,
                       const json& body, const std::string& machine = "m1") {
    return server->client().request(
        method, target, body.is_null() ? std::string{} : body.dump(),
        {{"Authorization", "Basic " + secret}, {"x-machine-id", machine}});
  }

  std::string create(int retries = 1) {
    json body{{"service", "svc"},
              {"targetFn", "f"},
              {"targetArgs", "kA=="},
              {"callConfig",
               {{"retryCountOnStall", retries},
                {"predictiveRetriesOnRejection", false},
                {"timeoutSeconds", 300}}}};
    auto reply = data("POST", "/jobs", body);
    CAF_REQUIRE_EQUAL(reply.status, 201u);
    return parse_json(reply.body)["id"].get<std::string>();
  }

  json poll(const std::string& machine, int limit = 100) {
    auto reply = data("POST", "/jobs-request",
                      json{{"service", "svc"}, {"limit", limit}, {"ttl", 5000}}, machine);
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    return parse_json(reply.body);
  }

  /// Waits until `count` jobs have a dispatch stored in Postgres (their attempt is
  /// spent there); false when they do not within 30 s.
  bool wait_for_stored_dispatches(int count) {
    pqxx::connection connection{url};
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds{30};
    for (;;) {
      pqxx::read_transaction txn{connection};
      if (txn.exec("SELECT count(*) FROM jobs WHERE attempts_used > 0")[0][0].as<int>() >=
          count)
        return true;
      if (std::chrono::steady_clock::now() >= until)
        return false;
      txn.abort();
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
  }

  json status(const std::string& id) {
    return parse_json(data("GET", "/jobs/" + id + "?ttl=5000", nullptr).body);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(durability_tests, fixture)

CAF_TEST(acknowledged jobs survive a crash and are dispatched after it) {
  std::set<std::string> created;
  for (int i = 0; i < 50; ++i)
    created.insert(create());
  crash_and_restart();
  std::set<std::string> dispatched;
  for (const auto& job : poll("m1"))
    dispatched.insert(job["id"].get<std::string>());
  CAF_CHECK_EQUAL(dispatched.size(), created.size());
  CAF_CHECK(dispatched == created);
}

CAF_TEST(a result acknowledged before a crash is served after it) {
  auto id = create();
  CAF_REQUIRE_EQUAL(poll("m1").size(), 1u);
  auto posted = data("POST", "/jobs/" + id + "/result",
                     json{{"result", "ZG9uZQ=="}, {"resultType", "resolution"}});
  CAF_CHECK_EQUAL(posted.status, 204u);
  crash_and_restart();
  auto row = status(id);
  CAF_CHECK_EQUAL(row["status"].get<std::string>(), "success");
  CAF_CHECK_EQUAL(row["result"].get<std::string>(), "ZG9uZQ==");
}

CAF_TEST(a job running at the crash spends its attempt) {
  // Dispatch writes at once, so that they commit before the crash.
  restart_with({"--dispatch-write-delay-ms", "0"});
  auto retried = create(1);
  auto spent = create(0);
  CAF_REQUIRE_EQUAL(poll("m1").size(), 2u);
  CAF_REQUIRE(wait_for_stored_dispatches(2));
  crash_and_restart();
  CAF_CHECK_EQUAL(status(spent)["status"].get<std::string>(), "failure");
  auto again = poll("m2");
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  // The second attempt is dispatched as "<id>/2", which is where its result goes.
  auto second = again[0]["id"].get<std::string>();
  CAF_CHECK_EQUAL(second, retried + "/2");
  // Neither the late result of the attempt before the crash nor a post to the second
  // attempt from the machine that held the first is taken.
  data("POST", "/jobs/" + retried + "/result",
       json{{"result", "YQ=="}, {"resultType", "resolution"}}, "m1");
  data("POST", "/jobs/" + second + "/result",
       json{{"result", "YQ=="}, {"resultType", "resolution"}}, "m1");
  CAF_CHECK_EQUAL(status(retried)["status"].get<std::string>(), "running");
  data("POST", "/jobs/" + second + "/result",
       json{{"result", "Yg=="}, {"resultType", "resolution"}}, "m2");
  CAF_CHECK_EQUAL(status(retried)["result"].get<std::string>(), "Yg==");
}

CAF_TEST(a dispatch write waits for the configured delay) {
  restart_with({"--dispatch-write-delay-ms", "60000"});
  auto id = create(0);
  CAF_REQUIRE_EQUAL(poll("m1").size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  crash_and_restart();
  // The attempt was never recorded: the job is pending again, not failed for want of
  // attempts, and the next worker gets it.
  auto again = poll("m2");
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  CAF_CHECK_EQUAL(again[0]["id"].get<std::string>(), id);
}

CAF_TEST(a held dispatch write is written once its delay passes) {
  restart_with({"--dispatch-write-delay-ms", "200"});
  auto first = create(0);
  CAF_REQUIRE_EQUAL(poll("m1").size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds{100});
  auto second = create(0);
  CAF_REQUIRE_EQUAL(poll("m1").size(), 1u);
  // Both delays pass and both writes commit before the crash: both attempts are spent.
  CAF_REQUIRE(wait_for_stored_dispatches(2));
  crash_and_restart();
  CAF_CHECK_EQUAL(status(first)["status"].get<std::string>(), "failure");
  CAF_CHECK_EQUAL(status(second)["status"].get<std::string>(), "failure");
}

CAF_TEST(a graceful stop answers parked polls and commits) {
  auto parked = std::async(std::launch::async, [this] { return poll("m1"); });
  wait_for_parked(*server, 1);
  auto started = std::chrono::steady_clock::now();
  CAF_CHECK_EQUAL(server->stop(), 0);
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - started, std::chrono::seconds{4});
  CAF_CHECK(parked.get().empty());
  server = start();
  CAF_CHECK_EQUAL(server->client().request("GET", "/live").status, 200u);
}

CAF_TEST_FIXTURE_SCOPE_END()
