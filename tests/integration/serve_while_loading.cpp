#define CAF_SUITE serve_while_loading

// A restarted server listens once its clusters' settings and machines are loaded; their
// live jobs follow in pages (--load-page-jobs) while creates, polls, results and status
// reads are answered. Pages of two jobs make the load of 20,000 seeded jobs last long
// enough to be seen.

#include "http_test_helpers.hpp"

#include <caf/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <future>
#include <set>
#include <thread>

using namespace diffplane;
using namespace diffplane::testing;
using nlohmann::json;

namespace {

constexpr int seeded_jobs = 20000;

struct fixture {
  std::string url = create_test_database();
  std::unique_ptr<server_process> server =
      std::make_unique<server_process>(server_args(url, {"--log-level", "info"}));
  std::string secret = create_cluster_on(*server, "loading");

  cli::http_reply data(const std::string& method, const std::string& target,
                       const json& body, const std::string& machine = "m1") {
    return data_of(secret, method, target, body, machine);
  }

  cli::http_reply data_of(const std::string& cluster_secret, const std::string& method,
                          const std::string& target, const json& body,
                          const std::string& machine = "m1") {
    return server->client().request(
        method, target, body.is_null() ? std::string{} : body.dump(),
        {{"Authorization", "Basic " + cluster_secret}, {"x-machine-id", machine}});
  }

  std::string create() { return create_in(secret); }

  std::string create_in(const std::string& cluster_secret) {
    json body{{"service", "svc"},
              {"targetFn", "f"},
              {"targetArgs", "kA=="},
              {"callConfig",
               {{"retryCountOnStall", 1},
                {"predictiveRetriesOnRejection", false},
                {"timeoutSeconds", 300}}}};
    auto reply = data_of(cluster_secret, "POST", "/jobs", body);
    CAF_REQUIRE_EQUAL(reply.status, 201u);
    return parse_json(reply.body)["id"].get<std::string>();
  }

  json poll(int limit, int ttl_ms) {
    auto reply = data("POST", "/jobs-request",
                      json{{"service", "svc"}, {"limit", limit}, {"ttl", ttl_ms}}, "m1");
    if (reply.status != 200u)
      CAF_FAIL("POST /jobs-request: " << reply.status << " " << reply.body);
    return parse_json(reply.body);
  }

  /// `count` copies of the one job created over HTTP in a cluster (the only one unless
  /// named), later, as bench/live-jobs seeds them; nine tenths moved to live_jobs like a
  /// server running a while longer would have done.
  void seed(int count = seeded_jobs, const std::string& cluster_id = {}) {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    const auto in_cluster =
        cluster_id.empty() ? std::string{} : " AND cluster_id = " + txn.quote(cluster_id);
    txn.exec(
        "INSERT INTO jobs (cluster_id, id, service, target_fn, target_args, status, "
        "max_attempts, timeout_seconds, predictive_retries_on_rejection, background, "
        "attempts_used, revision, created_at) "
        "SELECT t.cluster_id, 'seed-' || g, t.service, t.target_fn, t.target_args, "
        "'pending', t.max_attempts, t.timeout_seconds, "
        "t.predictive_retries_on_rejection, t.background, 0, t.revision, "
        "t.created_at + g * interval '1 microsecond' FROM (SELECT * FROM jobs WHERE "
        "TRUE" +
        in_cluster + " LIMIT 1) t, generate_series(1, " + std::to_string(count) + ") g");
    // Nine tenths moved to live_jobs, the rest created since the boundary: the load
    // reads both.
    const auto boundary = "(SELECT created_at FROM jobs WHERE id = 'seed-" +
                          std::to_string(count * 9 / 10) + "'" + in_cluster + ")";
    txn.exec("INSERT INTO live_jobs (cluster_id, created_at, id) SELECT cluster_id, "
             "created_at, id FROM jobs WHERE status = 'pending' AND created_at < " +
             boundary + in_cluster);
    txn.exec("UPDATE clusters SET live_jobs_before = " + boundary +
             (cluster_id.empty() ? std::string{} : " WHERE id = " + txn.quote(cluster_id)));
    txn.commit();
  }

  bool loaded() const {
    return server->log().find("event=cluster_loaded") != std::string::npos;
  }

  bool wait_for(const std::string& text) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds{120};
    while (server->log().find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= until)
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    return true;
  }

  bool wait_until_loaded() { return wait_for("event=cluster_loaded"); }

  /// Ends the connection of the cluster's live jobs load, which ends the cluster's
  /// actor (and its pools); the node starts it again.
  void cut_load() {
    {
      pqxx::connection connection{url};
      pqxx::nontransaction txn{connection};
      // This database's only: suites side by side load on the same Postgres.
      auto cut = txn.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE application_name = 'diffplane live jobs load' "
                          "AND datname = current_database()");
      CAF_REQUIRE_EQUAL(cut.size(), 1u);
    }
    CAF_REQUIRE(wait_for("event=cluster_load_failed"));
  }

  /// Finishes a first job, stops the server, seeds `count` jobs and starts it again
  /// with pages of `page_jobs`; answers the finished job's id.
  std::string restart_with_seeded(int count, int page_jobs) {
    auto first = create();
    CAF_REQUIRE_EQUAL(poll(1, 5000).size(), 1u);
    CAF_REQUIRE_EQUAL(finish(first), 204u);
    CAF_REQUIRE_EQUAL(server->stop(), 0);
    seed(count);
    server = std::make_unique<server_process>(server_args(
        url, {"--log-level", "info", "--load-page-jobs", std::to_string(page_jobs)}));
    return first;
  }

  unsigned finish(const std::string& id) {
    return data("POST", "/jobs/" + id + "/result",
                json{{"result", "ZG9uZQ=="}, {"resultType", "resolution"}})
        .status;
  }

  /// Polls until no job is left; answers every job dispatched, `polled` included.
  std::multiset<std::string> poll_all(const json& polled = json::array()) {
    std::multiset<std::string> seen;
    for (const auto& job : polled)
      seen.insert(job["id"].get<std::string>());
    for (;;) {
      auto more = poll(1000, 5000);
      if (more.empty())
        break;
      for (const auto& job : more)
        seen.insert(job["id"].get<std::string>());
    }
    return seen;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(serve_while_loading_tests, fixture)

CAF_TEST(requests are answered while older jobs load and no job is lost or repeated) {
  auto first = create();
  CAF_REQUIRE_EQUAL(poll(1, 5000).size(), 1u);
  CAF_REQUIRE_EQUAL(data("POST", "/jobs/" + first + "/result",
                         json{{"result", "ZG9uZQ=="}, {"resultType", "resolution"}})
                        .status,
                    204u);
  CAF_REQUIRE_EQUAL(server->stop(), 0);
  seed();
  server = std::make_unique<server_process>(
      server_args(url, {"--log-level", "info", "--load-page-jobs", "2"}));
  // Listening, and still loading.
  CAF_CHECK(!loaded());
  auto during = create();
  auto polled = poll(100, 5000);
  CAF_CHECK(!polled.empty());
  // A finished job's status is read from Postgres at once, a long-poll or not (one of
  // a live job not loaded yet waits for the load, then for its ttl).
  auto finished = data("GET", "/jobs/" + first + "?ttl=5000", nullptr);
  CAF_CHECK_EQUAL(parse_json(finished.body)["status"].get<std::string>(), "success");
  auto dispatched = polled.front()["id"].get<std::string>();
  CAF_CHECK_EQUAL(data("POST", "/jobs/" + dispatched + "/result",
                       json{{"result", "ZG9uZQ=="}, {"resultType", "resolution"}})
                      .status,
                  204u);
  // All of that before the end of the load.
  CAF_CHECK(!loaded());
  CAF_REQUIRE(wait_until_loaded());
  auto log = server->log();
  CAF_CHECK(log.find("live_jobs=" + std::to_string(seeded_jobs) + " ") !=
            std::string::npos);
  CAF_CHECK_LESS(log.find("event=cluster_serving"), log.find("event=listening"));
  CAF_CHECK_LESS(log.find("event=listening"), log.find("event=cluster_loaded"));
  // Every job once: the seeded ones and the one created during the load.
  auto seen = poll_all(polled);
  std::set<std::string> distinct(seen.begin(), seen.end());
  CAF_CHECK_EQUAL(seen.size(), distinct.size());
  CAF_CHECK_EQUAL(distinct.size(), static_cast<std::size_t>(seeded_jobs) + 1);
  CAF_CHECK_EQUAL(distinct.count(during), 1u);
  CAF_CHECK_EQUAL(distinct.count(first), 0u);
}

CAF_TEST(a load of many moved jobs reads them in one walk and none is lost or repeated) {
  // 108,000 moved: from 100,000 on the load scans jobs by creation time instead of
  // looking each moved job up.
  constexpr int many = 120000;
  auto first = restart_with_seeded(many, 20);
  CAF_CHECK(!loaded());
  auto during = create();
  // Ten seeded jobs, polled while the load goes on. A slow build (the sanitizer tree)
  // may answer the first poll with the job just created alone, before the first page
  // is in: poll until ten seeded ones came, asking for no more than are missing.
  std::vector<std::string> polled;
  bool during_polled = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (polled.size() < 10 && std::chrono::steady_clock::now() < deadline)
    for (const auto& job : poll(static_cast<int>(10 - polled.size()), 5000)) {
      auto id = job["id"].get<std::string>();
      if (id == during)
        during_polled = true;
      else
        polled.push_back(id);
    }
  CAF_REQUIRE_EQUAL(polled.size(), 10u);
  // Finished while the snapshot they were read from still shows them pending.
  for (const auto& id : polled)
    CAF_CHECK_EQUAL(finish(id), 204u);
  CAF_REQUIRE(wait_until_loaded());
  auto log = server->log();
  CAF_CHECK(log.find("live_jobs=" + std::to_string(many) + " ") != std::string::npos);
  auto seen = poll_all();
  std::set<std::string> distinct(seen.begin(), seen.end());
  CAF_CHECK_EQUAL(seen.size(), distinct.size());
  // Every seeded job but the ten finished, and the one created during the load unless
  // it was dispatched already.
  std::size_t created_left = during_polled ? 0 : 1;
  CAF_CHECK_EQUAL(distinct.size(), static_cast<std::size_t>(many) - 10 + created_left);
  CAF_CHECK_EQUAL(distinct.count(during), created_left);
  CAF_CHECK_EQUAL(distinct.count(first), 0u);
  for (const auto& id : polled)
    CAF_CHECK_EQUAL(distinct.count(id), 0u);
}

CAF_TEST(a load whose connection is cut starts again and loses no job) {
  auto first = restart_with_seeded(seeded_jobs, 2);
  CAF_CHECK(!loaded());
  auto during = create();
  cut_load();
  // The node starts the cluster again, and its new load reads every live job.
  CAF_REQUIRE(wait_until_loaded());
  auto log = server->log();
  CAF_CHECK(log.find("live_jobs=" + std::to_string(seeded_jobs + 1) + " ") !=
            std::string::npos);
  auto seen = poll_all();
  std::set<std::string> distinct(seen.begin(), seen.end());
  CAF_CHECK_EQUAL(seen.size(), distinct.size());
  CAF_CHECK_EQUAL(distinct.size(), static_cast<std::size_t>(seeded_jobs) + 1);
  CAF_CHECK_EQUAL(distinct.count(during), 1u);
  CAF_CHECK_EQUAL(distinct.count(first), 0u);
}

CAF_TEST(a poll parked in a cluster whose load is cut gets a job of the restarted one) {
  // The cut load ends the cluster's actor, and the pool that parked the poll with it;
  // the gateway sends the poll on to the restarted cluster, which hands it the next job
  // of its service at once rather than after the poll's ttl.
  restart_with_seeded(seeded_jobs, 2);
  CAF_CHECK(!loaded());
  auto poll_other = [this] {
    // Longer than the poll's ttl and the bridge's own deadline (ttl + 10 s).
    return server->client(std::chrono::seconds{60})
        .request("POST", "/jobs-request",
                 json{{"service", "other"}, {"limit", 1}, {"ttl", 20000}}.dump(),
                 {{"Authorization", "Basic " + secret}, {"x-machine-id", "m2"}});
  };
  auto parked = std::async(std::launch::async, poll_other);
  // No job of that service: the poll parks in its pool.
  CAF_REQUIRE(parked.wait_for(std::chrono::seconds{1}) == std::future_status::timeout);
  cut_load();
  // Serving again (the restarted cluster's first line once its settings are in).
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  auto serving = [this] {
    auto log = server->log();
    return log.find("event=cluster_serving", log.find("event=cluster_load_failed"));
  };
  while (serving() == std::string::npos && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  CAF_REQUIRE(serving() != std::string::npos);
  auto created_at = std::chrono::steady_clock::now();
  auto create =
      data("POST", "/jobs",
           json{{"service", "other"}, {"targetFn", "f"}, {"targetArgs", "kA=="}});
  CAF_REQUIRE_EQUAL(create.status, 201u);
  auto created = parse_json(create.body)["id"].get<std::string>();
  CAF_REQUIRE(parked.wait_for(std::chrono::seconds{3}) == std::future_status::ready);
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - created_at);
  CAF_MESSAGE("the parked poll got the job " << waited.count() << " ms after its create");
  auto reply = parked.get();
  CAF_REQUIRE_EQUAL(reply.status, 200u);
  auto jobs = parse_json(reply.body);
  CAF_REQUIRE_EQUAL(jobs.size(), 1u);
  CAF_CHECK_EQUAL(jobs[0]["id"].get<std::string>(), created);
}

CAF_TEST(clusters beyond the concurrent loads serve and load when a turn comes) {
  // Three clusters, each with 5,000 live jobs in pages of 20, and one load at a time.
  std::vector<std::string> secrets{secret, create_cluster_on(*server, "loading-2"),
                                   create_cluster_on(*server, "loading-3")};
  for (const auto& cluster_secret : secrets)
    create_in(cluster_secret);
  CAF_REQUIRE_EQUAL(server->stop(), 0);
  constexpr int per_cluster = 5000;
  {
    pqxx::connection connection{url};
    pqxx::nontransaction txn{connection};
    auto clusters = txn.exec("SELECT DISTINCT cluster_id FROM jobs");
    CAF_REQUIRE_EQUAL(clusters.size(), 3u);
    for (const auto& row : clusters)
      seed(per_cluster, row[0].as<std::string>());
  }
  server = std::make_unique<server_process>(server_args(
      url, {"--log-level", "info", "--load-page-jobs", "20", "--concurrent-loads", "1"}));
  // The loads' connections, counted until every cluster is loaded.
  pqxx::connection watcher{url};
  std::size_t most_at_once = 0;
  auto loaded_clusters = [&] {
    auto log = server->log();
    std::size_t count = 0;
    for (auto at = log.find("event=cluster_loaded"); at != std::string::npos;
         at = log.find("event=cluster_loaded", at + 1))
      ++count;
    return count;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{120};
  while (loaded_clusters() < 3 && std::chrono::steady_clock::now() < deadline) {
    pqxx::nontransaction txn{watcher};
    auto loads = txn.exec1("SELECT count(*) FROM pg_stat_activity "
                           "WHERE application_name = 'diffplane live jobs load' "
                           "AND datname = current_database()")[0]
                     .as<std::size_t>();
    most_at_once = std::max(most_at_once, loads);
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  CAF_REQUIRE_EQUAL(loaded_clusters(), 3u);
  // One load at a time. A finished load's backend may still be exiting when the next
  // one's connects, so two can show for a moment; without the cap all three show.
  CAF_CHECK_GREATER(most_at_once, 0u);
  CAF_CHECK_LESS(most_at_once, 3u);
  auto log = server->log();
  CAF_CHECK(log.find("event=load_waiting") != std::string::npos);
  // Every cluster loaded every one of its live jobs, and serves them.
  std::size_t complete = 0;
  const auto all_of_one = "live_jobs=" + std::to_string(per_cluster + 1) + " ";
  for (auto at = log.find(all_of_one); at != std::string::npos;
       at = log.find(all_of_one, at + 1))
    ++complete;
  CAF_CHECK_EQUAL(complete, 3u);
  for (const auto& cluster_secret : secrets) {
    auto reply = data_of(cluster_secret, "POST", "/jobs-request",
                         json{{"service", "svc"}, {"limit", 1}, {"ttl", 5000}});
    CAF_CHECK_EQUAL(reply.status, 200u);
    CAF_CHECK_EQUAL(parse_json(reply.body).size(), 1u);
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
