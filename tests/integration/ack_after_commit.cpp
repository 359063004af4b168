#define CAF_SUITE ack_after_commit

#include "http_test_helpers.hpp"

#include <caf/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <cctype>
#include <future>
#include <thread>

// 201 for a create and 204 for a result only once the row is committed: a lock held by
// another session keeps the server's write waiting inside Postgres, so the answer must
// wait too, and a write that fails must leave the attempt open.
using namespace diffplane;
using namespace diffplane::testing;
using nlohmann::json;

namespace {

constexpr auto deadline = std::chrono::seconds{20};

struct fixture : server_fixture {
  std::string secret = create_cluster("acks");
  /// One connection holds the lock; the other reads rows and locks meanwhile.
  pqxx::connection locker{database_url};
  pqxx::connection observer{database_url};
  std::unique_ptr<pqxx::work> lock_holder;

  // Writes are not held back, so the dispatch is in the row before the lock is taken.
  explicit fixture(std::vector<std::string> extra = {})
      : server_fixture(with(std::move(extra), {"--dispatch-write-delay-ms", "0"})) {}

  static std::vector<std::string> with(std::vector<std::string> a,
                                       const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  cli::http_reply data(const std::string& method, const std::string& target,
                       const std::string& body, const std::string& machine = "m1") {
    return call(method, target, secret, body, {{"x-machine-id", machine}});
  }

  std::future<cli::http_reply> data_async(std::string method, std::string target,
                                          std::string body) {
    return std::async(std::launch::async, [this, method, target, body] {
      return data(method, target, body);
    });
  }

  /// Takes a lock on jobs that blocks every insert and update of it.
  void hold_jobs_table() {
    lock_holder = std::make_unique<pqxx::work>(locker, "hold");
    lock_holder->exec("LOCK TABLE jobs IN SHARE MODE");
  }

  void release_jobs_table() {
    lock_holder->abort();
    lock_holder.reset();
  }

  /// The backends waiting for a lock on jobs (the server's writer, once it tries).
  std::vector<int> blocked_writers() {
    pqxx::work txn{observer};
    std::vector<int> pids;
    for (const auto& row :
         txn.exec("SELECT pid FROM pg_locks WHERE NOT granted AND relation = "
                  "'jobs'::regclass"))
      pids.push_back(row[0].as<int>());
    return pids;
  }

  /// Waits until the server's write is provably stuck behind the lock (in a session
  /// other than those of `ended`, which may linger a moment after they were ended).
  std::vector<int> wait_for_blocked_writer(const std::vector<int>& ended = {}) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      auto pids = blocked_writers();
      std::erase_if(pids, [&](int pid) {
        return std::find(ended.begin(), ended.end(), pid) != ended.end();
      });
      if (!pids.empty())
        return pids;
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    CAF_FAIL("the server's write never reached the lock");
    return {};
  }

  /// Ends the sessions of `pids`, as a lost connection would.
  void terminate(const std::vector<int>& pids) {
    pqxx::nontransaction txn{observer};
    for (auto pid : pids)
      txn.exec_params("SELECT pg_terminate_backend($1)", pid);
  }

  /// Lets new sessions into the test's database, or refuses them like a database that
  /// is down (sessions already open go on).
  void allow_connections(bool allowed) {
    std::string name;
    {
      pqxx::nontransaction txn{observer};
      name = txn.exec("SELECT current_database()")[0][0].as<std::string>();
    }
    pqxx::connection admin{admin_database_url()};
    pqxx::nontransaction txn{admin};
    txn.exec("ALTER DATABASE " + txn.quote_name(name) + " ALLOW_CONNECTIONS " +
             (allowed ? "true" : "false"));
  }

  std::string job_status(const std::string& id) {
    pqxx::work txn{observer};
    auto rows = txn.exec_params("SELECT status::text FROM jobs WHERE id = $1", id);
    return rows.empty() ? "none" : rows[0][0].as<std::string>();
  }

  std::string create_job() {
    auto reply = data("POST", "/jobs", job_body());
    CAF_REQUIRE_EQUAL(reply.status, 201u);
    return parse_json(reply.body)["id"].get<std::string>();
  }

  /// Dispatches `id` to m1 and waits until the row says so.
  void dispatch(const std::string& id) {
    auto reply =
        data("POST", "/jobs-request", R"({"service":"svc","limit":1,"ttl":5000})");
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    CAF_REQUIRE_EQUAL(parse_json(reply.body).size(), 1u);
    auto until = std::chrono::steady_clock::now() + deadline;
    while (job_status(id) != "running" && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    CAF_REQUIRE_EQUAL(job_status(id), "running");
  }

  static std::string job_body() {
    return json{{"service", "svc"}, {"targetFn", "f"}, {"targetArgs", "kQ=="}}.dump();
  }

  static bool ready(std::future<cli::http_reply>& reply) {
    return reply.wait_for(std::chrono::seconds{0}) == std::future_status::ready;
  }
};

const std::string resolution = R"({"result":"oWs=","resultType":"resolution"})";

} // namespace

CAF_TEST_FIXTURE_SCOPE(ack_after_commit_tests, fixture)

CAF_TEST(a create is answered only once its row is committed) {
  hold_jobs_table();
  auto reply = data_async("POST", "/jobs", job_body());
  wait_for_blocked_writer();
  CAF_CHECK(!ready(reply));
  release_jobs_table();
  CAF_REQUIRE(reply.wait_for(deadline) == std::future_status::ready);
  auto answer = reply.get();
  CAF_REQUIRE_EQUAL(answer.status, 201u);
  CAF_CHECK_EQUAL(job_status(parse_json(answer.body)["id"].get<std::string>()),
                  "pending");
}

CAF_TEST(a result is answered only once it is committed) {
  auto id = create_job();
  dispatch(id);
  hold_jobs_table();
  auto reply = data_async("POST", "/jobs/" + id + "/result", resolution);
  wait_for_blocked_writer();
  CAF_CHECK(!ready(reply));
  CAF_CHECK_EQUAL(job_status(id), "running");
  release_jobs_table();
  CAF_REQUIRE(reply.wait_for(deadline) == std::future_status::ready);
  CAF_CHECK_EQUAL(reply.get().status, 204u);
  CAF_CHECK_EQUAL(job_status(id), "success");
}

CAF_TEST(a create whose connection is lost before its commit is committed anew) {
  hold_jobs_table();
  auto reply = data_async("POST", "/jobs", job_body());
  auto first = wait_for_blocked_writer();
  terminate(first);
  // The writer replays the insert on a new connection, which waits for the lock again.
  wait_for_blocked_writer(first);
  CAF_CHECK(!ready(reply));
  release_jobs_table();
  CAF_REQUIRE(reply.wait_for(deadline) == std::future_status::ready);
  auto answer = reply.get();
  CAF_REQUIRE_EQUAL(answer.status, 201u);
  auto id = parse_json(answer.body)["id"].get<std::string>();
  CAF_CHECK_EQUAL(job_status(id), "pending");
  auto jobs =
      parse_json(data("POST", "/jobs-request", R"({"service":"svc","ttl":5000})").body);
  CAF_REQUIRE_EQUAL(jobs.size(), 1u);
  CAF_CHECK_EQUAL(jobs[0]["id"].get<std::string>(), id);
}

CAF_TEST(a result whose write fails is 503 and the attempt stays open) {
  auto id = create_job();
  dispatch(id);
  hold_jobs_table();
  auto reply = data_async("POST", "/jobs/" + id + "/result", resolution);
  auto writers = wait_for_blocked_writer();
  // The database goes away under the waiting write: its connection ends and no new one
  // is let in, so nothing can be committed.
  allow_connections(false);
  terminate(writers);
  CAF_REQUIRE(reply.wait_for(deadline) == std::future_status::ready);
  auto failed = reply.get();
  CAF_CHECK_EQUAL(failed.status, 503u);
  allow_connections(true);
  release_jobs_table();
  CAF_CHECK_EQUAL(job_status(id), "running");
  auto status = parse_json(data("GET", "/jobs/" + id + "?ttl=5000", "").body);
  CAF_CHECK_EQUAL(status["status"].get<std::string>(), "running");
  // The worker posts again, and this time it lands.
  CAF_CHECK_EQUAL(data("POST", "/jobs/" + id + "/result", resolution).status, 204u);
  CAF_CHECK_EQUAL(job_status(id), "success");
}

CAF_TEST(a refused result is answered 204 and changes nothing) {
  auto id = create_job();
  dispatch(id);
  // Another machine's result: the SDK's contract answers it like an accepted one.
  auto intruder = call("POST", "/jobs/" + id + "/result", secret, resolution,
                       {{"x-machine-id", "m2"}});
  CAF_CHECK_EQUAL(intruder.status, 204u);
  CAF_CHECK_EQUAL(job_status(id), "running");
  CAF_CHECK_EQUAL(data("POST", "/jobs/" + id + "/result", resolution).status, 204u);
  CAF_CHECK_EQUAL(job_status(id), "success");
  // A repeat after the job finished: 204 again, the stored result untouched.
  auto repeat = data("POST", "/jobs/" + id + "/result",
                     R"({"result":"b3RoZXI=","resultType":"resolution"})");
  CAF_CHECK_EQUAL(repeat.status, 204u);
  auto status = parse_json(data("GET", "/jobs/" + id + "?ttl=5000", "").body);
  CAF_CHECK_EQUAL(status["result"].get<std::string>(), "oWs=");
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

// A write that waits longer than the writer's statement timeout.
constexpr auto statement_timeout_ms = 1000;

struct short_timeout_fixture : fixture {
  short_timeout_fixture()
      : fixture({"--writer-statement-timeout-ms", std::to_string(statement_timeout_ms)}) {
  }
};

std::string header_of(const cli::http_reply& reply, const std::string& lower_name) {
  for (const auto& [name, value] : reply.headers) {
    auto lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == lower_name)
      return value;
  }
  return {};
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(statement_timeout_tests, short_timeout_fixture)

CAF_TEST(a create stuck in the database past the statement timeout is 503 at once) {
  hold_jobs_table();
  auto started = std::chrono::steady_clock::now();
  auto reply = data_async("POST", "/jobs", job_body());
  wait_for_blocked_writer();
  // Cancelled by Postgres after the timeout and answered whole, not replayed write by
  // write (each replay would wait the timeout again) nor left waiting for the lock.
  CAF_REQUIRE(reply.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  auto waited = std::chrono::steady_clock::now() - started;
  auto answer = reply.get();
  CAF_CHECK_EQUAL(answer.status, 503u);
  CAF_CHECK_EQUAL(header_of(answer, "retry-after"), "1");
  CAF_CHECK_EQUAL(parse_json(answer.body)["message"].get<std::string>(),
                  "the database did not answer within 1000 ms");
  CAF_CHECK_LESS(waited, std::chrono::milliseconds{statement_timeout_ms * 4});
  CAF_CHECK_EQUAL(blocked_writers().size(), 0u);
  release_jobs_table();
  // The connection is fine: the next create commits at once.
  auto id = create_job();
  CAF_CHECK_EQUAL(job_status(id), "pending");
}

CAF_TEST_FIXTURE_SCOPE_END()
