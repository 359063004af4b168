#define CAF_SUITE cluster_resources

#include "resource_fixture.hpp"

#include "actors/resource_lifecycle.hpp"

#include <nlohmann/json.hpp>

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::resource_fixture {
  fixture() {
    options.resources.backoff_base = 1000ms;
    options.resources.backoff_cap = 4000ms;
    options.resources.work_timeout_seconds = 30;
    restart_cluster();
  }

  static resource_input item(const std::string& id, const std::string& object_json,
                             std::int64_t version = -1) {
    resource_input input;
    input.kind = "user";
    input.id = id;
    input.object_json = object_json;
    if (version >= 0) {
      input.has_version = true;
      input.version = version;
    }
    return input;
  }

  /// Informs one resource; its outcome.
  std::string inform(const std::string& id, const std::string& object_json,
                     std::int64_t version = -1) {
    auto results = ask<std::vector<inform_result>>(
        resource_inform_request{{item(id, object_json, version)}});
    CAF_REQUIRE_EQUAL(results.size(), 1u);
    return results.front().outcome;
  }

  const resource_record& stored(const std::string& id) {
    const auto* r = store->resource("c1", "user", id);
    CAF_REQUIRE(r != nullptr);
    return *r;
  }

  std::size_t work_jobs() const {
    std::size_t n = 0;
    for (const auto& [key, job] : store->jobs)
      n += job.service == "resources.user" ? 1 : 0;
    return n;
  }

  static nlohmann::json argument_of(const dispatched_job& job) {
    return nlohmann::json::parse(resources::decode_payload(job.target_args))[0];
  }
};

const std::string synced = "{\"action\":\"synced\"}";

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_resources_tests, fixture)

CAF_TEST(an informed resource is scheduled with one work job) {
  CAF_CHECK_EQUAL(inform("42", "{\"name\":\"ada\"}"), "scheduled");
  CAF_CHECK_EQUAL(stored("42").state, resource_state::scheduled);
  CAF_CHECK_EQUAL(work_jobs(), 1u);
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(work[0].target_fn, "work");
  auto argument = argument_of(work[0]);
  CAF_CHECK_EQUAL(argument["kind"], "user");
  CAF_CHECK_EQUAL(argument["id"], "42");
  CAF_CHECK_EQUAL(argument["object"]["name"], "ada");
  CAF_CHECK_EQUAL(argument["attempt"], 1);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::pending);
  CAF_CHECK(finish(work[0], synced));
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
  CAF_CHECK(stored("42").work_job_id.empty());
}

CAF_TEST(the same object of a synced resource is unchanged and writes nothing) {
  inform("42", "{\"name\":\"ada\"}");
  finish(take_work().at(0), synced);
  auto writes = store->resource_writes;
  CAF_CHECK_EQUAL(inform("42", "{\"name\":\"ada\"}"), "unchanged");
  CAF_CHECK_EQUAL(store->resource_writes, writes);
  CAF_CHECK_EQUAL(work_jobs(), 1u);
  CAF_CHECK_EQUAL(inform("42", "{\"name\":\"bob\"}"), "scheduled");
  CAF_CHECK_EQUAL(work_jobs(), 2u);
}

CAF_TEST(an older version is stale and never overwrites newer data) {
  inform("42", "{\"name\":\"new\"}", 7);
  CAF_CHECK_EQUAL(inform("42", "{\"name\":\"old\"}", 6), "stale");
  CAF_CHECK_EQUAL(stored("42").object_json, "{\"name\":\"new\"}");
  CAF_CHECK_EQUAL(stored("42").version, 7);
  CAF_CHECK_EQUAL(inform("42", "{\"name\":\"newer\"}", 8), "coalesced");
  CAF_CHECK_EQUAL(stored("42").version, 8);
}

CAF_TEST(informs while work is queued coalesce into its job) {
  CAF_CHECK_EQUAL(inform("42", "{\"n\":1}"), "scheduled");
  CAF_CHECK_EQUAL(inform("42", "{\"n\":2}"), "coalesced");
  CAF_CHECK_EQUAL(inform("42", "{\"n\":3}"), "coalesced");
  CAF_CHECK_EQUAL(work_jobs(), 1u);
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(work[0])["object"]["n"]), 3);
  // Durable too: a restart runs the job with the newest object.
  CAF_CHECK_EQUAL(
      nlohmann::json(argument_of(dispatched_job{
          "", "", store->job("c1", work[0].id)->target_args, 1})["object"]["n"]),
      3);
}

CAF_TEST(a batch applies in one commit and coalesces repeated ids) {
  auto writes = store->resource_writes;
  auto results = ask<std::vector<inform_result>>(resource_inform_request{
      {item("1", "{\"a\":1}"), item("2", "{\"a\":2}"), item("1", "{\"a\":3}")}});
  CAF_REQUIRE_EQUAL(results.size(), 3u);
  CAF_CHECK_EQUAL(results[0].outcome, "scheduled");
  CAF_CHECK_EQUAL(results[1].outcome, "scheduled");
  CAF_CHECK_EQUAL(results[2].outcome, "coalesced");
  CAF_CHECK_EQUAL(store->resource_writes, writes + 1);
  CAF_CHECK_EQUAL(work_jobs(), 2u);
  for (auto& job : take_work())
    if (argument_of(job)["id"] == "1")
      CAF_CHECK_EQUAL(nlohmann::json(argument_of(job)["object"]["a"]), 3);
}

CAF_TEST(informs while work runs give exactly one more work) {
  inform("42", "{\"n\":1}");
  auto first = take_work();
  CAF_REQUIRE_EQUAL(first.size(), 1u);
  CAF_CHECK_EQUAL(inform("42", "{\"n\":2}"), "scheduled");
  CAF_CHECK(stored("42").dirty);
  CAF_CHECK_EQUAL(inform("42", "{\"n\":3}"), "coalesced");
  CAF_CHECK_EQUAL(work_jobs(), 1u);
  // Never two concurrent works of one resource.
  CAF_CHECK(take_work("m2").empty());
  finish(first[0], synced);
  CAF_CHECK_EQUAL(work_jobs(), 2u);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::scheduled);
  CAF_CHECK(!stored("42").dirty);
  auto second = take_work();
  CAF_REQUIRE_EQUAL(second.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(second[0])["object"]["n"]), 3);
  finish(second[0], synced);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
  CAF_CHECK_EQUAL(work_jobs(), 2u);
}

CAF_TEST(a delete action marks the resource deleted) {
  inform("42", "{}");
  finish(take_work().at(0), "{\"action\":\"delete\"}");
  CAF_CHECK_EQUAL(stored("42").state, resource_state::deleted);
}

CAF_TEST(failures retry with backoff until degraded) {
  auto input = item("42", "{}");
  input.max_attempts = 3;
  ask<std::vector<inform_result>>(resource_inform_request{{input}});
  finish(take_work().at(0), "{\"message\":\"upstream 503\"}", result_kind::rejection);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::failed);
  CAF_CHECK_EQUAL(stored("42").attempts, 1);
  CAF_CHECK_EQUAL(
      nlohmann::json(nlohmann::json::parse(stored("42").errors_json)[0]["message"]),
      "upstream 503");
  // The first retry waits the base: not a moment less.
  advance_time(999ms);
  CAF_CHECK(take_work().empty());
  advance_time(1ms);
  auto second = take_work();
  CAF_REQUIRE_EQUAL(second.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(second[0])["attempt"]), 2);
  finish(second[0], "{\"message\":\"again\"}", result_kind::rejection);
  // Then twice that.
  advance_time(1999ms);
  CAF_CHECK(take_work().empty());
  advance_time(1ms);
  auto third = take_work();
  CAF_REQUIRE_EQUAL(third.size(), 1u);
  finish(third[0], "{\"message\":\"still\"}", result_kind::rejection);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::degraded);
  CAF_CHECK_EQUAL(stored("42").attempts, 3);
  CAF_CHECK_EQUAL(nlohmann::json::parse(stored("42").errors_json).size(), 3u);
  advance_time(60s);
  CAF_CHECK(take_work().empty());
  // A new object starts over.
  CAF_CHECK_EQUAL(inform("42", "{\"fixed\":true}"), "scheduled");
  CAF_CHECK_EQUAL(stored("42").attempts, 1);
}

CAF_TEST(a kind has its own backoff and timeout) {
  resource_kind_request put{"user", true, {}};
  put.settings.backoff_base_ms = 5000;
  put.settings.timeout_seconds = 7;
  auto effective = ask<resource_kind_record>(put);
  CAF_CHECK_EQUAL(effective.backoff_base_ms, 5000);
  CAF_CHECK_EQUAL(effective.backoff_cap_ms, 4000);
  CAF_CHECK_EQUAL(effective.timeout_seconds, 7);
  inform("42", "{}");
  CAF_CHECK_EQUAL(store->job("c1", stored("42").work_job_id)->timeout_seconds, 7);
  finish(take_work().at(0), "{\"message\":\"no\"}", result_kind::rejection);
  // The cap (the server's 4 s) is below the kind's base: the cap wins.
  advance_time(3999ms);
  CAF_CHECK(take_work().empty());
  advance_time(1ms);
  CAF_CHECK_EQUAL(take_work().size(), 1u);
  // The settings are durable.
  restart_cluster();
  auto reloaded = ask<resource_kind_record>(resource_kind_request{"user", false, {}});
  CAF_CHECK_EQUAL(reloaded.backoff_base_ms, 5000);
  CAF_CHECK_EQUAL(reloaded.timeout_seconds, 7);
}

CAF_TEST(a work whose worker goes silent fails its attempt) {
  inform("42", "{}");
  take_work();
  // The fixture's machines stall after 10 s of silence.
  advance_in_steps(10s);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::failed);
  CAF_CHECK_EQUAL(stored("42").attempts, 1);
  auto errors = nlohmann::json::parse(stored("42").errors_json);
  CAF_REQUIRE_EQUAL(errors.size(), 1u);
  CAF_CHECK_NOT_EQUAL(errors[0]["message"].get<std::string>().find("worker was lost"),
                      std::string::npos);
}

CAF_TEST(a scheduled resource and its job survive a restart) {
  inform("42", "{\"n\":1}");
  auto job_id = stored("42").work_job_id;
  restart_cluster();
  CAF_CHECK_EQUAL(inform("42", "{\"n\":2}"), "coalesced");
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(work[0].id, job_id);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(work[0])["object"]["n"]), 2);
  finish(work[0], synced);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
}

CAF_TEST(a work running when its node died is worked again) {
  inform("42", "{}");
  take_work();
  restart_cluster();
  CAF_CHECK_EQUAL(stored("42").state, resource_state::failed);
  advance_time(1s);
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  finish(work[0], synced);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
}

CAF_TEST(a result committed before a crash is applied at the restart) {
  inform("42", "{}");
  auto work = take_work().at(0);
  // The job's result is durable but the resource never heard of it.
  auto& job = store->jobs.at("c1/" + work.id);
  job.status = job_status::success;
  job.result_type = result_kind::resolution;
  job.result = resources::encode_payload(synced);
  restart_cluster();
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
}

CAF_TEST_FIXTURE_SCOPE_END()
