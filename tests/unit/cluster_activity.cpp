#define CAF_SUITE cluster_activity

#include "cluster_fixture.hpp"

#include "metrics/catalog.hpp"

#include <nlohmann/json.hpp>

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::cluster_fixture {
  nlohmann::json meta(const event_record& e) {
    return nlohmann::json::parse(e.meta_json);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_activity_tests, fixture)

CAF_TEST(a stall is recorded with its reason and the attempts left) {
  auto stalled_before = metrics::jobs().stalled.value();
  auto id = create("slow", 1, 10);
  ask<std::vector<dispatched_job>>(poll("m1"));
  advance_in_steps(10s - 1ms);
  CAF_CHECK(events_of("jobStalled").empty());
  advance_time(1ms);
  auto stalls = events_of("jobStalled");
  CAF_REQUIRE_EQUAL(stalls.size(), 1u);
  CAF_CHECK_EQUAL(stalls[0]->job_id, id);
  CAF_CHECK_EQUAL(stalls[0]->machine_id, "m1");
  CAF_CHECK_EQUAL(stalls[0]->service, "svc");
  CAF_CHECK_EQUAL(meta(*stalls[0])["reason"].get<std::string>(), "timeout");
  CAF_CHECK_EQUAL(meta(*stalls[0])["attemptsRemaining"].get<int>(), 1);
  CAF_CHECK_EQUAL(metrics::jobs().stalled.value(), stalled_before + 1);
  ask<std::vector<dispatched_job>>(poll("m2"));
  advance_in_steps(10s - 1ms);
  CAF_CHECK_EQUAL(events_of("jobStalled").size(), 1u);
  advance_time(1ms);
  CAF_CHECK_EQUAL(events_of("jobStalled").size(), 2u);
  auto failures = events_of("jobFailed");
  CAF_REQUIRE_EQUAL(failures.size(), 1u);
  CAF_CHECK_EQUAL(failures[0]->job_id, id);
}

CAF_TEST(refused results are recorded with why) {
  auto id = create("f");
  ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK(!ask<bool>(result(id, "intruder")));
  CAF_CHECK(ask<bool>(result(id, "m1")));
  CAF_CHECK(!ask<bool>(result(id, "m1")));
  auto refused = events_of("jobResultNotPersisted");
  CAF_REQUIRE_EQUAL(refused.size(), 2u);
  CAF_CHECK_EQUAL(refused[0]->machine_id, "intruder");
  CAF_CHECK(meta(*refused[0])["reason"].get<std::string>().find("m1") !=
            std::string::npos);
  CAF_CHECK_EQUAL(meta(*refused[1])["reason"].get<std::string>(),
                  "the job already finished");
}

CAF_TEST(refused results beyond the cluster budget are counted and not recorded) {
  options.refused_result_rows_burst = 4;
  options.refused_result_rows_per_second = 2;
  restart_cluster();
  auto refused_before = metrics::jobs().results_not_persisted.value();
  auto unrecorded_before = metrics::jobs().results_not_recorded.value();
  auto id = create("f");
  ask<std::vector<dispatched_job>>(poll("m1"));
  // Refused by the job's actor (not the holder), then by the cluster (finished): both
  // draw on one budget.
  CAF_CHECK(!ask<bool>(result(id, "intruder")));
  CAF_CHECK(!ask<bool>(result(id, "intruder")));
  CAF_CHECK(ask<bool>(result(id, "m1")));
  for (int i = 0; i < 20; ++i)
    CAF_CHECK(!ask<bool>(result(id, "m1")));
  CAF_CHECK_EQUAL(events_of("jobResultNotPersisted").size(), 4u);
  CAF_CHECK_EQUAL(metrics::jobs().results_not_persisted.value(), refused_before + 22);
  CAF_CHECK_EQUAL(metrics::jobs().results_not_recorded.value(), unrecorded_before + 18);
  // The budget refills: two rows a second.
  advance_time(1s);
  for (int i = 0; i < 5; ++i)
    CAF_CHECK(!ask<bool>(result(id, "m1")));
  CAF_CHECK_EQUAL(events_of("jobResultNotPersisted").size(), 6u);
}

CAF_TEST(a silent machine is recorded once) {
  self->request(cluster, caf::infinite, poll("quiet")); // parks; never answered here
  run();
  // Silent once its poll's ttl (5 s) and the stall window (10 s) have passed.
  advance_in_steps(15s - 1ms);
  CAF_CHECK(events_of("machineStalled").empty());
  advance_time(1ms);
  auto stalled = events_of("machineStalled");
  CAF_REQUIRE_EQUAL(stalled.size(), 1u);
  CAF_CHECK_EQUAL(stalled[0]->machine_id, "quiet");
}

CAF_TEST(settings are changed durably and survive a restart) {
  auto before = ask<cluster_settings>(settings_atom::value);
  CAF_CHECK(!before.predictive_retries_enabled);
  CAF_CHECK_EQUAL(ask<done_atom>(cluster_settings{true, false}), done_atom::value);
  CAF_CHECK(store->clusters["c1"].predictive_retries_enabled);
  CAF_CHECK(ask<cluster_settings>(settings_atom::value).predictive_retries_enabled);
  caf::anon_send_exit(cluster, caf::exit_reason::kill);
  run();
  self->receive([](caf::down_msg&) {}, caf::after(std::chrono::seconds{0}) >> [] {});
  info.predictive_retries_enabled = false; // the node's stale copy
  start_cluster();
  CAF_CHECK(ask<cluster_settings>(settings_atom::value).predictive_retries_enabled);
}

CAF_TEST(service details carry the definition and the jobs) {
  auto announce = poll("m1");
  announce.announces_functions = true;
  announce.functions = {"f", "g"};
  self->request(cluster, caf::infinite, announce);
  run();
  create("f");
  auto details = ask<service_details>(service_details_request{"svc", 100});
  CAF_CHECK(details.has_definition);
  CAF_CHECK_EQUAL(details.definition.functions.size(), 2u);
  CAF_CHECK_EQUAL(details.jobs.size(), 1u);
  auto unknown = ask<service_details>(service_details_request{"nope", 100});
  CAF_CHECK(!unknown.has_definition);
  CAF_CHECK(unknown.jobs.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
