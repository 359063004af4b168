#define CAF_SUITE idle_writes

#include "http_test_helpers.hpp"
#include "wal_window.hpp"

#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <iterator>
#include <regex>
#include <thread>

using namespace diffplane::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Short heartbeats put many of them in the window: a write that comes once per
// heartbeat, or once per sweep, shows up in a window of two seconds.
const std::vector<std::string> fast_heartbeats{"--node-heartbeat-ms", "100",
                                               "--lease-ttl-ms", "1000"};

/// One job of `secret`'s cluster through its whole cycle: created, taken, resolved.
void run_one_job(server_fixture& f, const std::string& secret) {
  auto created = f.call("POST", "/jobs", secret,
                        R"({"service":"svc","targetFn":"echo","targetArgs":"kaNhcmc="})");
  CAF_REQUIRE_EQUAL(created.status, 201u);
  auto id = parse_json(created.body)["id"].get<std::string>();
  auto jobs =
      f.call("POST", "/jobs-request", secret,
             R"({"service":"svc","limit":10,"ttl":5000})", {{"x-machine-id", "m1"}});
  CAF_REQUIRE_EQUAL(jobs.status, 200u);
  CAF_REQUIRE_EQUAL(parse_json(jobs.body).size(), 1u);
  auto posted =
      f.call("POST", "/jobs/" + id + "/result", secret,
             R"({"result":"oWs=","resultType":"resolution"})", {{"x-machine-id", "m1"}});
  CAF_REQUIRE_EQUAL(posted.status, 204u);
  auto done = f.call("GET", "/jobs/" + id + "?ttl=5000", secret);
  CAF_REQUIRE_EQUAL(json_field(done.body, "status"), "success");
}

} // namespace

// Issue 18 target 6: an idle server writes nothing but what tells other nodes it lives.
CAF_TEST(an idle server writes only its heartbeat and lease renewals) {
  server_fixture f{fast_heartbeats};
  auto secret = f.create_cluster("idle");
  run_one_job(f, secret);
  // Work the job leaves behind: its cluster moves the live-jobs boundary past it
  // (UPDATE clusters) a few seconds later.
  CAF_REQUIRE(wait_for_live_jobs_boundary(f.database_url));

  wal_window wal{f.database_url};
  std::this_thread::sleep_for(2s);
  auto tables = wal.records(
      "SELECT DISTINCT c.relname FROM records w JOIN pg_class c ON c.oid = w.relation "
      // Only relations of our own schema count (oids from 16384, the first initdb
      // does not use): an analyze writes the statistics' TOAST table too.
      "WHERE c.oid >= 16384 AND w.record !~ " +
      std::string{housekeeping_records} + " ORDER BY 1");
  const std::regex liveness{"^(nodes|cluster_leases)(_.*)?$"};
  std::vector<std::string> others;
  std::copy_if(
      tables.begin(), tables.end(), std::back_inserter(others),
      [&](const std::string& table) { return !std::regex_match(table, liveness); });
  CAF_CHECK_EQUAL(others, std::vector<std::string>{});
  // The window saw heartbeats: a window too short to hold any would prove nothing.
  CAF_CHECK(std::find(tables.begin(), tables.end(), "nodes") != tables.end());
  CAF_CHECK(std::find(tables.begin(), tables.end(), "cluster_leases") != tables.end());
}
