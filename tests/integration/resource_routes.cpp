#define CAF_SUITE resource_routes

#include "http_test_helpers.hpp"
#include "resource_waits.hpp"
#include "wal_window.hpp"

#include "actors/resource_lifecycle.hpp"
#include "persistence/iso8601.hpp"

#include <caf/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <future>
#include <map>
#include <set>
#include <thread>

using namespace diffplane;
using namespace diffplane::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// A server that can be killed and started again on the same database.
struct fixture {
  std::string url = create_test_database();
  std::unique_ptr<server_process> server = start();
  std::string secret = create_cluster_on(*server, "resources");

  std::unique_ptr<server_process> start() {
    return std::make_unique<server_process>(server_args(url));
  }

  void crash_and_restart() {
    server->kill();
    server = start();
  }

  cli::http_reply data(const std::string& method, const std::string& target,
                       const json& body = nullptr, const std::string& machine = "m1") {
    return server->client().request(
        method, target, body.is_null() ? std::string{} : body.dump(),
        {{"Authorization", "Basic " + secret}, {"x-machine-id", machine}});
  }

  /// Informs `resources` and returns the outcomes in order.
  std::vector<std::string> inform(const std::vector<json>& resources) {
    auto reply = data("POST", "/resources", json{{"resources", resources}});
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    std::vector<std::string> outcomes;
    auto answer = parse_json(reply.body);
    for (const auto& r : answer["results"])
      outcomes.push_back(r["outcome"].get<std::string>());
    return outcomes;
  }

  static json user(const std::string& id, const json& object) {
    return json{{"kind", "user"}, {"id", id}, {"object", object}};
  }

  json get(const std::string& id) {
    auto reply = data("GET", "/resources/user/" + id);
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    return parse_json(reply.body);
  }

  /// The user controller's poll.
  json take_work(int ttl = 5000) {
    auto reply = data("POST", "/jobs-request",
                      json{{"service", "resources.user"}, {"limit", 10}, {"ttl", ttl}});
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    return parse_json(reply.body);
  }

  /// The informer's next run of the user kind (null when none came in five polls).
  json take_inform_run() {
    for (int i = 0; i < 5; ++i)
      for (const auto& job : take_work())
        if (job["targetFn"] == "inform")
          return job;
    return nullptr;
  }

  void finish(const json& job, const std::string& result_json) {
    auto reply = data("POST", "/jobs/" + job["id"].get<std::string>() + "/result",
                      json{{"result", resources::encode_payload(result_json)},
                           {"resultType", "resolution"},
                           {"functionExecutionTime", 1}});
    if (reply.status != 204u)
      CAF_FAIL("result of " << job["id"] << " (" << job["targetFn"] << ") answered "
                            << reply.status << ": " << reply.body);
  }

  /// Waits until the user `id` reaches `state` (it may not be informed yet).
  json wait_for_state(const std::string& id, const std::string& state) {
    return wait_for_resource_state(
        [&](const std::string& target) { return data("GET", target); }, "user", id, state);
  }

  static json argument_of(const json& job) {
    return parse_json(resources::decode_payload(job["targetArgs"].get<std::string>()))[0];
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(resource_routes_tests, fixture)

CAF_TEST(an informed resource is worked by its controller and synced) {
  auto outcomes = inform({user("42", {{"name", "ada"}}), user("43", {{"name", "bob"}})});
  CAF_CHECK_EQUAL(outcomes, (std::vector<std::string>{"scheduled", "scheduled"}));
  auto r = get("42");
  CAF_CHECK_EQUAL(r["state"], "scheduled");
  CAF_CHECK_EQUAL(r["object"]["name"], "ada");
  CAF_CHECK_EQUAL(r["namespace"], "default");
  CAF_CHECK_EQUAL(r["attempts"], 1);
  CAF_CHECK_EQUAL(r["maxAttempts"], 10);
  CAF_CHECK_EQUAL(r["hash"].get<std::string>().size(), 64u);
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 2u);
  for (const auto& job : work) {
    CAF_CHECK_EQUAL(job["targetFn"], "work");
    finish(job, R"({"action":"synced"})");
  }
  CAF_CHECK_EQUAL(json(argument_of(work[0])["kind"]), "user");
  wait_for_state("42", "synced");
  wait_for_state("43", "synced");
  CAF_CHECK_EQUAL(inform({user("42", {{"name", "ada"}})}),
                  std::vector<std::string>{"unchanged"});
  auto counts = parse_json(data("GET", "/resources-counts?kind=user").body)["counts"];
  CAF_CHECK_EQUAL(counts["synced"], 2);
  CAF_CHECK_EQUAL(counts["scheduled"], 0);
}

// Issue 15: "a batch inform of unchanged resources costs no write at all". The server's
// heartbeat updates `nodes` (and the lease) every second, so the WAL position alone moves
// anyway: the records between the positions (pg_walinspect) must touch no other table.
CAF_TEST(a batch of unchanged resources writes nothing to the database) {
  constexpr int count = 300;
  std::vector<json> batch;
  for (int i = 0; i < count; ++i)
    batch.push_back(
        user("u" + std::to_string(i), {{"name", "user " + std::to_string(i)}}));
  inform(batch);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  int finished = 0;
  while (finished < count && std::chrono::steady_clock::now() < deadline)
    for (const auto& job : take_work()) {
      finish(job, R"({"action":"synced"})");
      ++finished;
    }
  CAF_REQUIRE_EQUAL(finished, count);
  for (auto synced = 0; synced < count && std::chrono::steady_clock::now() < deadline;) {
    auto counts = parse_json(data("GET", "/resources-counts?kind=user").body)["counts"];
    synced = counts["synced"].get<int>();
    std::this_thread::sleep_for(20ms);
  }
  CAF_REQUIRE_EQUAL(inform({batch.front()}), std::vector<std::string>{"unchanged"});
  // The works were jobs: live_jobs_delay (2 s) after their creation the cluster moves
  // its boundary past them (UPDATE clusters), a write of theirs, not of the informs.
  CAF_REQUIRE(wait_for_live_jobs_boundary(url));

  wal_window wal{url};
  for (int round = 0; round < 3; ++round)
    CAF_CHECK_EQUAL(inform(batch), std::vector<std::string>(count, "unchanged"));
  auto tables = wal.records(
      "SELECT DISTINCT c.relname FROM records w JOIN pg_class c ON c.oid = w.relation "
      // Postgres's own housekeeping is no write of the informs: a reader prunes the dead
      // row versions of a page it reads (catalog pages such as pg_proc, and resources
      // after the earlier cases' updates), sets hint bits, and autovacuum may run in the
      // window (bench/resources leaves out the same). An analyze writes the statistics'
      // TOAST table too, which lives outside pg_catalog: only relations of our own
      // schema (oids from 16384, the first initdb does not use) count.
      "WHERE c.oid >= 16384 "
      "AND c.relname !~ '^(nodes|cluster_leases)(_|$)' "
      "AND w.record !~ " +
      std::string{housekeeping_records});
  CAF_CHECK_EQUAL(tables, std::vector<std::string>{});
}

CAF_TEST(changed informs of queued resources update their rows in place) {
  constexpr int count = 300;
  auto round_of = [&](int round) {
    std::vector<json> batch;
    for (int i = 0; i < count; ++i)
      batch.push_back(user("u" + std::to_string(i),
                           {{"name", "user " + std::to_string(i)}, {"round", round}}));
    return batch;
  };
  CAF_REQUIRE_EQUAL(inform(round_of(0)), std::vector<std::string>(count, "scheduled"));
  wal_window wal{url};
  for (int round = 1; round <= 3; ++round)
    CAF_CHECK_EQUAL(inform(round_of(round)), std::vector<std::string>(count, "coalesced"));
  // Their state and namespace stay: an update is HOT (room on the page, migration
  // 0016), one heap record and no index entry, not a row moved to another page with an
  // entry in each of the three indexes. Rounds after the first find room only once
  // Postgres pruned the versions before them, which other databases' transactions on the
  // same Postgres (tests run side by side) can hold off: alone no row moves, six copies of
  // this case side by side moved up to 291 of the 900; without the room, 870 moved.
  auto records = wal.records(
      "SELECT c.relname || ':' || w.record || '=' || count(*) FROM records w "
      "JOIN pg_class c ON c.oid = w.relation WHERE c.relname ~ '^resources' "
      "AND w.record !~ '^(Heap/(LOCK|HOT_UPDATE)|Heap2/(PRUNE|VACUUM|VISIBLE)|"
      "Btree/VACUUM|XLOG/FPI_FOR_HINT)$' GROUP BY c.relname, w.record ORDER BY 1");
  auto moved = wal.records("SELECT count(*) FROM records w JOIN pg_class c ON c.oid = "
                           "w.relation WHERE c.relname = 'resources' AND w.record IN "
                           "('Heap/UPDATE', 'Heap/UPDATE+INIT')");
  CAF_REQUIRE_EQUAL(moved.size(), 1u);
  CAF_MESSAGE("records beyond HOT updates: " << json(records).dump());
  CAF_CHECK_LESS(std::stoi(moved.front()), 3 * count / 2);
  // Coalesced all the same: the queued work has the newest object.
  CAF_CHECK_EQUAL(json(get("u7")["object"]["round"]), 3);
  auto work = take_work();
  CAF_REQUIRE(!work.empty());
  for (const auto& job : work)
    CAF_CHECK_EQUAL(json(argument_of(job)["object"]["round"]), 3);
}

CAF_TEST(a malformed resource names its index and field and applies nothing) {
  auto reply =
      data("POST", "/resources",
           json{{"resources",
                 {user("1", {{"a", 1}}),
                  json{{"kind", "bad kind"}, {"id", "2"}, {"object", json::object()}}}}});
  CAF_CHECK_EQUAL(reply.status, 400u);
  CAF_CHECK_EQUAL(json_field(reply.body, "field"), "resources[1].kind");
  CAF_CHECK_EQUAL(data("GET", "/resources/user/1").status, 404u);
  auto no_object = data("POST", "/resources", json{{"kind", "user"}, {"id", "1"}});
  CAF_CHECK_EQUAL(json_field(no_object.body, "field"), "object");
  auto too_many = json::array();
  for (int i = 0; i < 1001; ++i)
    too_many.push_back(user(std::to_string(i), json::object()));
  CAF_CHECK_EQUAL(data("POST", "/resources", json{{"resources", too_many}}).status, 400u);
  auto bad_tag = user("1", json::object());
  bad_tag["tags"] = {{"team", 7}};
  CAF_CHECK_EQUAL(json_field(data("POST", "/resources", bad_tag).body, "field"),
                  "tags.team");
}

CAF_TEST(stale versions and coalescing over HTTP) {
  auto v7 = user("42", {{"n", 7}});
  v7["version"] = 7;
  auto v6 = user("42", {{"n", 6}});
  v6["version"] = 6;
  auto v8 = user("42", {{"n", 8}});
  v8["version"] = 8;
  CAF_CHECK_EQUAL(inform({v7, v6, v8}),
                  (std::vector<std::string>{"scheduled", "stale", "coalesced"}));
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(json(argument_of(work[0])["object"]["n"]), 8);
  CAF_CHECK_EQUAL(json(argument_of(work[0])["version"]), 8);
}

// Issue 15: "1,000 rapid informs of one resource give at most one queued and one running
// work and the final object synced".
CAF_TEST(a thousand rapid informs of a resource being worked queue one more work) {
  CAF_REQUIRE_EQUAL(inform({user("42", {{"n", 0}})}), std::vector<std::string>{"scheduled"});
  auto running = take_work();
  CAF_REQUIRE_EQUAL(running.size(), 1u);
  // A controller's poll parked meanwhile (up to its ttl of 5 s): no second work while
  // the first runs.
  auto second = std::async(std::launch::async, [this] { return take_work(); });
  // From eight connections at once, as controllers' informers would send them (one at a
  // time, each waits for its group commit: 20 s of the suite), then the newest last.
  std::vector<std::vector<std::string>> outcomes_of(8);
  std::vector<std::thread> informers;
  for (int t = 0; t < 8; ++t)
    informers.emplace_back([&, t] {
      auto client = server->client();
      for (int n = 1 + t; n < 1000; n += 8) {
        auto body = json{{"resources", {user("42", {{"n", n}})}}}.dump();
        auto reply = client.request("POST", "/resources", body,
                                    {{"Authorization", "Basic " + secret}});
        outcomes_of[t].push_back(reply.status == 200u
                                     ? parse_json(reply.body)["results"][0]["outcome"]
                                           .get<std::string>()
                                     : "status " + std::to_string(reply.status));
      }
    });
  for (auto& informer : informers)
    informer.join();
  std::map<std::string, int> outcomes;
  for (const auto& of_one : outcomes_of)
    for (const auto& outcome : of_one)
      ++outcomes[outcome];
  for (const auto& outcome : inform({user("42", {{"n", 1000}})}))
    ++outcomes[outcome];
  // The first marks the running resource dirty; every other joins that one more work.
  CAF_CHECK_EQUAL(outcomes, (std::map<std::string, int>{{"coalesced", 999}, {"scheduled", 1}}));
  CAF_CHECK(second.get().empty());
  finish(running.front(), R"({"action":"synced"})");
  // Exactly one more, with the newest object (a third would be left for the last poll).
  auto next = take_work();
  CAF_REQUIRE_EQUAL(next.size(), 1u);
  CAF_CHECK_EQUAL(json(argument_of(next.front())["object"]["n"]), 1000);
  finish(next.front(), R"({"action":"synced"})");
  auto synced = wait_for_state("42", "synced");
  CAF_CHECK_EQUAL(json(synced["object"]["n"]), 1000);
  CAF_CHECK(take_work().empty());
}

CAF_TEST(a list pages through resources by state) {
  std::vector<json> batch;
  for (int i = 0; i < 5; ++i)
    batch.push_back(user("u" + std::to_string(i), {{"i", i}}));
  inform(batch);
  auto first =
      parse_json(data("GET", "/resources?kind=user&state=scheduled&limit=3").body);
  CAF_CHECK_EQUAL(first["resources"].size(), 3u);
  CAF_REQUIRE(first["cursor"].is_string());
  auto second =
      parse_json(data("GET", "/resources?kind=user&state=scheduled&limit=3&cursor=" +
                                 first["cursor"].get<std::string>())
                     .body);
  CAF_CHECK_EQUAL(second["resources"].size(), 2u);
  CAF_CHECK(second["cursor"].is_null());
  CAF_CHECK_EQUAL(second["resources"][1]["id"], "u4");
  CAF_CHECK_EQUAL(data("GET", "/resources?state=bogus").status, 400u);
}

CAF_TEST(a kind keeps its settings across a restart) {
  auto bad = data("PUT", "/resources-kinds/user", json{{"backoffBaseMs", 0}});
  CAF_CHECK_EQUAL(bad.status, 400u);
  CAF_CHECK_EQUAL(json_field(bad.body, "field"), "backoffBaseMs");
  auto put = data("PUT", "/resources-kinds/user",
                  json{{"backoffBaseMs", 250}, {"timeoutSeconds", 20}});
  CAF_REQUIRE_EQUAL(put.status, 200u);
  CAF_CHECK_EQUAL(json(parse_json(put.body)["backoffCapMs"]), 300000);
  crash_and_restart();
  auto got = parse_json(data("GET", "/resources-kinds/user").body);
  CAF_CHECK_EQUAL(got["backoffBaseMs"], 250);
  CAF_CHECK_EQUAL(got["timeoutSeconds"], 20);
  inform({user("42", json::object())});
  CAF_CHECK_EQUAL(take_work().size(), 1u);
}

CAF_TEST(resources and their queued work survive a kill and a restart) {
  inform({user("42", {{"n", 1}}), user("43", {{"n", 1}})});
  auto job_42 = get("42")["jobId"];
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 2u);
  for (const auto& job : work)
    if (job["id"] != job_42)
      finish(job, R"({"action":"synced"})");
  wait_for_state("43", "synced");
  // 42 is being worked; then the server dies.
  inform({user("44", {{"n", 1}})});
  auto job_44 = get("44")["jobId"];
  crash_and_restart();
  CAF_CHECK_EQUAL(json(get("43")["state"]), "synced");
  CAF_CHECK_EQUAL(inform({user("43", {{"n", 1}})}),
                  std::vector<std::string>{"unchanged"});
  // The queued work is still there, with the same job.
  CAF_CHECK_EQUAL(json(get("44")["state"]), "scheduled");
  CAF_CHECK_EQUAL(json(get("44")["jobId"]), job_44);
  // The work that was running is worked again: failed with its node and retried after
  // the backoff, or, when its dispatch had not been written yet, queued again.
  auto again = take_work(5000);
  std::set<std::string> ids;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ids.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    for (const auto& job : again) {
      ids.insert(argument_of(job)["id"].get<std::string>());
      finish(job, R"({"action":"synced"})");
    }
    if (ids.size() < 2)
      again = take_work(5000);
  }
  CAF_CHECK_EQUAL(ids, (std::set<std::string>{"42", "44"}));
  wait_for_state("42", "synced");
  wait_for_state("44", "synced");
}

CAF_TEST(an informer runs and keeps its last run across a restart) {
  auto bad = data("PUT", "/resources-kinds/user", json{{"informIntervalSeconds", 0}});
  CAF_CHECK_EQUAL(json_field(bad.body, "field"), "informIntervalSeconds");
  auto put = data("PUT", "/resources-kinds/user", json{{"informIntervalSeconds", 1}});
  CAF_REQUIRE_EQUAL(put.status, 200u);
  CAF_CHECK_EQUAL(json(parse_json(put.body)["informIntervalSeconds"]), 1);
  // The first run starts at once and has never run before.
  auto run = take_inform_run();
  CAF_REQUIRE(!run.is_null());
  CAF_CHECK_EQUAL(argument_of(run), (json{{"kind", "user"}, {"lastRunAt", nullptr}}));
  finish(run, R"([{"kind":"user","id":"42","object":{"n":1}}])");
  wait_for_state("42", "scheduled");
  // A kind as GET shows it; a failed read is a failed check, not an abort.
  auto read_kind = [&] {
    auto reply = data("GET", "/resources-kinds/user");
    CAF_CHECK_EQUAL(reply.status, 200u);
    if (reply.status != 200u)
      CAF_MESSAGE("GET /resources-kinds/user: " << reply.status << " " << reply.body);
    return parse_json(reply.body);
  };
  auto kind = read_kind();
  CAF_REQUIRE(kind["lastInformedAt"].is_string());
  auto informed_at = [&]() -> timestamp_ms {
    if (!kind["lastInformedAt"].is_string()) {
      CAF_ERROR("lastInformedAt is not a time: " << kind.dump());
      return 0;
    }
    return parse_iso8601(kind["lastInformedAt"].get<std::string>()).value_or(0);
  };
  timestamp_ms last_run = informed_at();
  CAF_REQUIRE_NOT_EQUAL(last_run, 0);
  crash_and_restart();
  kind = read_kind();
  CAF_CHECK_EQUAL(informed_at(), last_run);
  CAF_CHECK_EQUAL(kind["informIntervalSeconds"], 1);
  // The runs after the restart continue from the stored time (a run that succeeds moves
  // it on before its answer to this poll is read), until one succeeds.
  std::size_t runs = 0;
  std::size_t from_stored_time = 0;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (informed_at() == last_run && std::chrono::steady_clock::now() < deadline) {
    for (const auto& job : take_work()) {
      if (job["targetFn"] == "work") {
        finish(job, R"({"action":"synced"})");
        continue;
      }
      ++runs;
      auto last_run_at = argument_of(job)["lastRunAt"];
      CAF_REQUIRE(last_run_at.is_number());
      CAF_CHECK_GREATER_OR_EQUAL(last_run_at.get<timestamp_ms>(), last_run);
      from_stored_time += last_run_at == json(last_run) ? 1 : 0;
      finish(job, "[]");
    }
    kind = read_kind();
  }
  CAF_CHECK_GREATER_OR_EQUAL(runs, 1u);
  CAF_CHECK_GREATER_OR_EQUAL(from_stored_time, 1u);
  CAF_CHECK_GREATER(informed_at(), last_run);
  CAF_CHECK(kind["informError"].is_null());
}

CAF_TEST(a delete withdraws the queued work of the resource) {
  inform({user("42", {{"n", 1}}), user("43", {{"n", 1}})});
  auto job_42 = get("42")["jobId"].get<std::string>();
  CAF_CHECK_EQUAL(data("DELETE", "/resources/user/42").status, 204u);
  // The withdrawn job ended with the removal: its status says so at once (a live job
  // would keep this poll for its ttl, and then answer pending).
  auto status = data("GET", "/jobs/" + job_42 + "?ttl=5000");
  CAF_REQUIRE_EQUAL(status.status, 200u);
  CAF_CHECK_EQUAL(json_field(status.body, "status"), "failure");
  // The controller is given 43's work only, also after a restart.
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(json(argument_of(work[0])["id"]), "43");
  finish(work[0], R"({"action":"synced"})");
  wait_for_state("43", "synced");
  crash_and_restart();
  CAF_CHECK(take_work(5000).empty());
  CAF_CHECK_EQUAL(data("GET", "/resources/user/42").status, 404u);
  status = data("GET", "/jobs/" + job_42 + "?ttl=5000");
  CAF_CHECK_EQUAL(json_field(status.body, "status"), "failure");
}

CAF_TEST(an informer error is kept across a restart) {
  auto put = data("PUT", "/resources-kinds/user", json{{"informIntervalSeconds", 60}});
  CAF_REQUIRE_EQUAL(put.status, 200u);
  auto run = take_inform_run();
  CAF_REQUIRE(!run.is_null());
  auto rejected =
      data("POST", "/jobs/" + run["id"].get<std::string>() + "/result",
           json{{"result", resources::encode_payload(R"({"message":"source down"})")},
                {"resultType", "rejection"},
                {"functionExecutionTime", 1}});
  CAF_REQUIRE_EQUAL(rejected.status, 204u);
  // Stored by a commit of its own, shortly after the result (the answer of GET comes
  // from memory): waits for the row, so that the kill below comes after the commit.
  auto stored_error = [&] {
    pqxx::connection db{url};
    pqxx::nontransaction sql{db};
    auto rows = sql.exec("SELECT coalesce(inform_error, '') FROM resource_kinds "
                         "WHERE kind = 'user'");
    return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
  };
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (stored_error() != "source down" && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  CAF_REQUIRE_EQUAL(stored_error(), "source down");
  auto kind = parse_json(data("GET", "/resources-kinds/user").body);
  CAF_CHECK_EQUAL(kind["informError"], "source down");
  crash_and_restart();
  kind = parse_json(data("GET", "/resources-kinds/user").body);
  CAF_CHECK_EQUAL(kind["informError"], "source down");
  CAF_CHECK(kind["lastInformedAt"].is_null());
  // The run after the restart (due at once) succeeds: the error is gone, also stored.
  run = take_inform_run();
  CAF_REQUIRE(!run.is_null());
  finish(run, "[]");
  deadline = std::chrono::steady_clock::now() + 10s;
  while (!stored_error().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  CAF_CHECK(stored_error().empty());
  CAF_CHECK(parse_json(data("GET", "/resources-kinds/user").body)["informError"].is_null());
  crash_and_restart();
  CAF_CHECK(
      parse_json(data("GET", "/resources-kinds/user").body)["informError"].is_null());
}

CAF_TEST(a coalesced inform writes its resource row and no job row) {
  CAF_REQUIRE_EQUAL(inform({user("c1", {{"n", 1}}), user("c2", {{"n", 1}})}),
                    (std::vector<std::string>{"scheduled", "scheduled"}));
  // A sweep moving the live-jobs boundary past the works writes `clusters` and
  // `live_jobs`, not `jobs`; waited for all the same, to keep the window to the informs.
  CAF_REQUIRE(wait_for_live_jobs_boundary(url));
  wal_window wal{url};
  CAF_CHECK_EQUAL(inform({user("c1", {{"n", 2}}), user("c2", {{"n", 2}})}),
                  (std::vector<std::string>{"coalesced", "coalesced"}));
  // The queued works keep their rows: the resources' rows have the newest objects (an
  // UPDATE of each work's targetArgs was a third of Postgres's time in these informs).
  auto by_table = [&](const std::string& condition) {
    return wal.records("SELECT c.relname || ':' || w.record FROM records w JOIN pg_class "
                       "c ON c.oid = w.relation WHERE " +
                       condition + " ORDER BY 1");
  };
  auto jobs = by_table("c.relname = 'jobs' OR c.relname LIKE 'jobs\\_%'");
  CAF_CHECK_EQUAL(json(jobs).dump(), "[]");
  CAF_CHECK(!by_table("c.relname = 'resources'").empty());
  // Their pools' copies have the newest objects.
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 2u);
  for (const auto& job : work)
    CAF_CHECK_EQUAL(json(argument_of(job)["object"]["n"]), 2);
}

CAF_TEST(a queued work has the newest object after a kill and a restart) {
  // k1's work becomes a moved live job (before the live-jobs boundary), k2's stays a
  // recent one: the load reads them from either side.
  CAF_REQUIRE_EQUAL(inform({user("k1", {{"n", 1}})}), std::vector<std::string>{"scheduled"});
  CAF_REQUIRE(wait_for_live_jobs_boundary(url));
  CAF_REQUIRE_EQUAL(inform({user("k2", {{"n", 1}})}), std::vector<std::string>{"scheduled"});
  auto job_1 = get("k1")["jobId"].get<std::string>();
  auto job_2 = get("k2")["jobId"].get<std::string>();
  for (int n = 2; n <= 3; ++n)
    CAF_REQUIRE_EQUAL(inform({user("k1", {{"n", n}}), user("k2", {{"n", n}})}),
                      (std::vector<std::string>{"coalesced", "coalesced"}));
  // Acknowledged after the commit: the kill loses nothing of the informs.
  crash_and_restart();
  CAF_CHECK_EQUAL(json(get("k1")["jobId"]), job_1);
  CAF_CHECK_EQUAL(json(get("k2")["jobId"]), job_2);
  std::map<std::string, json> objects;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (objects.size() < 2 && std::chrono::steady_clock::now() < deadline)
    for (const auto& job : take_work()) {
      auto argument = argument_of(job);
      objects[job["id"].get<std::string>()] = argument["object"];
      CAF_CHECK_EQUAL(json(argument["attempt"]), 1);
      finish(job, R"({"action":"synced"})");
    }
  CAF_CHECK_EQUAL(json(objects).dump(),
                  json({{job_1, {{"n", 3}}}, {job_2, {{"n", 3}}}}).dump());
  wait_for_state("k1", "synced");
  wait_for_state("k2", "synced");
}

CAF_TEST_FIXTURE_SCOPE_END()

// Namespaces (max_workers, expiry, retention), invalidate and delete.
namespace {

struct namespace_fixture : fixture {
  void put_namespace(const std::string& name, const json& settings) {
    auto reply = data("PUT", "/resources-namespaces/" + name, settings);
    CAF_REQUIRE_EQUAL(reply.status, 200u);
  }

  static json user_in(const std::string& ns, const std::string& id) {
    auto r = user(id, {{"id", id}});
    r["namespace"] = ns;
    return r;
  }

  /// Works the queued resources of the user kind, `expected_id` among them, synced.
  void work_one(const std::string& expected_id) {
    auto work = take_work();
    bool found = false;
    for (const auto& job : work) {
      found = found || argument_of(job)["id"] == expected_id;
      finish(job, R"({"action":"synced"})");
    }
    CAF_CHECK(found);
    wait_for_state(expected_id, "synced");
  }

  /// Waits until GET of the resource answers 404.
  void wait_until_gone(const std::string& id) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (data("GET", "/resources/user/" + id).status == 404u)
        return;
      std::this_thread::sleep_for(50ms);
    }
    CAF_FAIL("resource " << id << " was not purged");
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(resource_namespace_routes_tests, namespace_fixture)

CAF_TEST(a namespace is validated and keeps its settings across a restart) {
  auto bad = data("PUT", "/resources-namespaces/limited", json{{"maxWorkers", 0}});
  CAF_CHECK_EQUAL(bad.status, 400u);
  CAF_CHECK_EQUAL(json_field(bad.body, "field"), "maxWorkers");
  auto bad_ttl =
      data("PUT", "/resources-namespaces/limited", json{{"expiryTtlSeconds", "1h"}});
  CAF_CHECK_EQUAL(json_field(bad_ttl.body, "field"), "expiryTtlSeconds");
  CAF_CHECK_EQUAL(data("GET", "/resources-namespaces/bad%20name").status, 400u);
  put_namespace("limited", {{"maxWorkers", 4}, {"deletedRetentionSeconds", 3600}});
  crash_and_restart();
  auto got = parse_json(data("GET", "/resources-namespaces/limited").body);
  CAF_CHECK_EQUAL(got["maxWorkers"], 4);
  CAF_CHECK_EQUAL(got["deletedRetentionSeconds"], 3600);
  CAF_CHECK(got["expiryTtlSeconds"].is_null());
  CAF_CHECK(parse_json(data("GET", "/resources-namespaces/other").body)["maxWorkers"]
                .is_null());
}

CAF_TEST(max_workers is respected under 20 concurrent workers) {
  constexpr int limit = 3;
  constexpr int resources = 40;
  put_namespace("limited", {{"maxWorkers", limit}});
  std::vector<json> batch;
  for (int i = 0; i < resources; ++i)
    batch.push_back(user_in("limited", "r" + std::to_string(i)));
  inform(batch);
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  std::atomic<int> done{0};
  auto deadline = std::chrono::steady_clock::now() + 30s;
  std::vector<std::thread> workers;
  for (int w = 0; w < 20; ++w)
    workers.emplace_back([&, machine = "w" + std::to_string(w)] {
      while (done < resources && std::chrono::steady_clock::now() < deadline) {
        auto reply = data(
            "POST", "/jobs-request",
            json{{"service", "resources.user"}, {"limit", 1}, {"ttl", 5000}}, machine);
        if (reply.status != 200u)
          continue;
        for (const auto& job : parse_json(reply.body)) {
          auto now = ++running;
          for (auto seen = most.load();
               now > seen && !most.compare_exchange_weak(seen, now);)
            ;
          std::this_thread::sleep_for(30ms);
          // Counted out before the result is sent: the server frees the slot after.
          --running;
          data("POST", "/jobs/" + job["id"].get<std::string>() + "/result",
               json{{"result", resources::encode_payload(R"({"action":"synced"})")},
                    {"resultType", "resolution"},
                    {"functionExecutionTime", 1}},
               machine);
          ++done;
        }
      }
    });
  for (auto& t : workers)
    t.join();
  CAF_CHECK_EQUAL(done.load(), resources);
  CAF_CHECK_LESS_OR_EQUAL(most.load(), limit);
  // Some workers did run at once: the limit was reached, not merely kept by chance.
  CAF_CHECK_EQUAL(most.load(), limit);
  auto counts =
      parse_json(data("GET", "/resources-counts?namespace=limited").body)["counts"];
  auto deadline_synced = std::chrono::steady_clock::now() + 10s;
  while (counts["synced"] != resources &&
         std::chrono::steady_clock::now() < deadline_synced) {
    std::this_thread::sleep_for(50ms);
    counts =
        parse_json(data("GET", "/resources-counts?namespace=limited").body)["counts"];
  }
  CAF_CHECK_EQUAL(counts["synced"], resources);
}

CAF_TEST(a synced resource expires and an invalidated one is worked again) {
  put_namespace("fast", {{"expiryTtlSeconds", 1}});
  inform({user_in("fast", "1"), user("2", json::object())});
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 2u);
  for (const auto& job : work)
    finish(job, R"({"action":"synced"})");
  wait_for_state("2", "synced");
  // 1 expires about a second after it was synced and is worked again.
  auto again = take_work(5000);
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  CAF_CHECK_EQUAL(json(argument_of(again[0])["id"]), "1");
  wait_for_state("1", "pending");
  finish(again[0], R"({"action":"synced"})");
  // 2 has no expiry: an invalidate expires it now.
  auto invalidated = data("POST", "/resources/user/2/invalidate");
  CAF_CHECK_EQUAL(invalidated.status, 200u);
  CAF_CHECK_EQUAL(json_field(invalidated.body, "state"), "expired");
  auto twice = data("POST", "/resources/user/2/invalidate");
  CAF_CHECK_EQUAL(twice.status, 409u);
  CAF_CHECK_NOT_EQUAL(json_field(twice.body, "message").find("only a synced resource"),
                      std::string::npos);
  CAF_CHECK_EQUAL(data("POST", "/resources/user/nobody/invalidate").status, 404u);
  work_one("2");
}

CAF_TEST(a deleted resource stays deleted and deleted ones are purged) {
  inform({user("42", {{"n", 1}})});
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(data("DELETE", "/resources/user/42").status, 204u);
  CAF_CHECK_EQUAL(data("GET", "/resources/user/42").status, 404u);
  CAF_CHECK_EQUAL(data("DELETE", "/resources/user/42").status, 404u);
  // The running work's result does not bring it back.
  finish(work[0], R"({"action":"synced"})");
  std::this_thread::sleep_for(200ms);
  CAF_CHECK_EQUAL(data("GET", "/resources/user/42").status, 404u);
  // Retention: a resource the controller deleted is purged after it.
  put_namespace("gone", {{"deletedRetentionSeconds", 1}});
  inform({user_in("gone", "43")});
  auto last = take_work();
  CAF_REQUIRE_EQUAL(last.size(), 1u);
  finish(last[0], R"({"action":"delete"})");
  wait_for_state("43", "deleted");
  wait_until_gone("43");
  // Gone for good, also after a restart.
  crash_and_restart();
  CAF_CHECK_EQUAL(data("GET", "/resources/user/43").status, 404u);
  CAF_CHECK_EQUAL(data("GET", "/resources/user/42").status, 404u);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

struct events_fixture : fixture {
  /// GET /resources/events after `cursor`.
  json events(std::int64_t cursor, int ttl = 0, int limit = 100) {
    auto reply = data("GET", "/resources/events?after=" + std::to_string(cursor) +
                                 "&ttl=" + std::to_string(ttl) +
                                 "&limit=" + std::to_string(limit));
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    return parse_json(reply.body);
  }

  /// Every event after `cursor`, in pages of `limit`, as "type:id"; `cursor` moves on.
  std::vector<std::string> drain(std::int64_t& cursor, int limit) {
    std::vector<std::string> out;
    for (;;) {
      auto page = events(cursor, 0, limit);
      for (const auto& e : page["events"]) {
        CAF_CHECK_GREATER(e["seq"].get<std::int64_t>(), cursor);
        cursor = e["seq"].get<std::int64_t>();
        out.push_back(e["type"].get<std::string>() + ":" + e["id"].get<std::string>());
      }
      CAF_CHECK_EQUAL(page["cursor"].get<std::int64_t>(), cursor);
      if (page["events"].empty())
        return out;
    }
  }

  /// The types of `id`'s events in `all`, in order.
  static std::vector<std::string> of(const std::vector<std::string>& all,
                                     const std::string& id) {
    std::vector<std::string> out;
    for (const auto& e : all)
      if (e.substr(e.find(':') + 1) == id)
        out.push_back(e.substr(0, e.find(':')));
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(resource_events_routes_tests, events_fixture)

CAF_TEST(the events route delivers every event in order across a restart) {
  inform({user("42", {{"n", 1}}), user("43", {{"n", 1}})});
  for (const auto& job : take_work())
    finish(job, R"({"action":"synced"})");
  wait_for_state("42", "synced");
  wait_for_state("43", "synced");
  std::int64_t cursor = 0;
  auto before = drain(cursor, 2);
  // scheduled, (pending,) synced of each: a dispatch whose result came in the same
  // step as it is one change, scheduled to synced.
  CAF_CHECK_GREATER_OR_EQUAL(before.size(), 4u);
  // Killed: what was answered is durable, and the numbering goes on after it.
  crash_and_restart();
  inform({user("44", json::object())});
  auto after = drain(cursor, 2);
  CAF_CHECK_EQUAL(after, std::vector<std::string>{"scheduled:44"});
  auto all = before;
  all.insert(all.end(), after.begin(), after.end());
  // One read from the start sees the same, in the same order.
  std::int64_t from_start = 0;
  CAF_CHECK_EQUAL(drain(from_start, 1000), all);
  CAF_CHECK_EQUAL(from_start, cursor);
  for (auto id : {"42", "43"}) {
    auto changes = of(all, id);
    CAF_REQUIRE_GREATER_OR_EQUAL(changes.size(), 2u);
    CAF_CHECK_EQUAL(changes.front(), "scheduled");
    CAF_CHECK_EQUAL(changes.back(), "synced");
  }
  auto first = events(0, 0, 1)["events"][0];
  CAF_CHECK_EQUAL(first["state"], "scheduled");
  CAF_CHECK(first["previousState"].is_null());
  CAF_CHECK_EQUAL(first["attempt"], 1);
  CAF_CHECK(first["jobId"].is_string());
  CAF_CHECK(first["message"].is_null());
  CAF_CHECK(first["at"].is_string());
}

CAF_TEST(an events long poll wakes on a new event) {
  inform({user("1", json::object())});
  auto cursor = events(0)["cursor"].get<std::int64_t>();
  auto started = std::chrono::steady_clock::now();
  auto empty = events(cursor, 1);
  CAF_CHECK(empty["events"].empty());
  CAF_CHECK_EQUAL(empty["cursor"].get<std::int64_t>(), cursor);
  CAF_CHECK_GREATER_OR_EQUAL(std::chrono::steady_clock::now() - started, 900ms);
  json woken;
  std::chrono::steady_clock::duration waited{};
  std::thread poller([&] {
    auto begin = std::chrono::steady_clock::now();
    woken = events(cursor, 20);
    waited = std::chrono::steady_clock::now() - begin;
  });
  std::this_thread::sleep_for(300ms);
  inform({user("2", json::object())});
  poller.join();
  CAF_REQUIRE_EQUAL(woken["events"].size(), 1u);
  CAF_CHECK_EQUAL(woken["events"][0]["id"], "2");
  CAF_CHECK_EQUAL(woken["cursor"], woken["events"][0]["seq"]);
  CAF_CHECK_LESS(waited, 5s);
}

CAF_TEST(resource events are entries of the activity log) {
  inform({user("42", json::object())});
  auto manage = [&](const std::string& target) {
    auto reply = server->client().request(
        "GET", target, "", {{"Authorization", "Basic " + test_management_secret}});
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    return parse_json(reply.body);
  };
  std::string cluster_id;
  for (const auto& c : manage("/clusters"))
    if (c["description"] == "resources")
      cluster_id = c["id"].get<std::string>();
  json entry;
  for (const auto& e : manage("/clusters/" + cluster_id + "/activity"))
    if (e["type"] == "resourceScheduled")
      entry = e;
  CAF_REQUIRE(entry.is_object());
  CAF_CHECK_EQUAL(entry["service"], "resources.user");
  auto job_id = get("42")["jobId"].get<std::string>();
  CAF_CHECK_EQUAL(entry["jobId"].get<std::string>(), job_id);
  // One job's activity holds the resource events of its work.
  auto job = manage("/clusters/" + cluster_id + "/activity?jobId=" + job_id);
  bool found = false;
  for (const auto& e : job)
    found = found || e["type"] == "resourceScheduled";
  CAF_CHECK(found);
}

CAF_TEST(bad events parameters are refused naming the parameter) {
  CAF_CHECK_EQUAL(json_field(data("GET", "/resources/events?after=-1").body, "field"),
                  "after");
  CAF_CHECK_EQUAL(json_field(data("GET", "/resources/events?ttl=31").body, "field"),
                  "ttl");
  CAF_CHECK_EQUAL(json_field(data("GET", "/resources/events?limit=0").body, "field"),
                  "limit");
  CAF_CHECK_EQUAL(data("GET", "/resources/events?ttl=0").status, 200u);
  CAF_CHECK_EQUAL(
      server->client().request("GET", "/resources/events?ttl=0", "", {}).status, 401u);
}

CAF_TEST_FIXTURE_SCOPE_END()
