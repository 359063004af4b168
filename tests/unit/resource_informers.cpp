#define CAF_SUITE resource_informers

#include "cluster_fixture.hpp"

#include "actors/resource_lifecycle.hpp"
#include "gateway/informed_resources.hpp"

#include <nlohmann/json.hpp>

using namespace diffplane;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct fixture : testing::cluster_fixture {
  fixture() {
    options.resources.work_timeout_seconds = 30;
    options.resources.decode_informed = gateway::decode_informed;
    restart_cluster();
  }

  /// PUT /resources-kinds/user with an informer every `seconds` (0: off).
  resource_kind_record set_interval(std::int32_t seconds) {
    resource_kind_request put{"user", true, {}};
    put.settings.inform_interval_seconds = seconds;
    auto effective = ask<resource_kind_record>(put);
    // A run due at once is sent without a timer.
    run();
    return effective;
  }

  resource_kind_record kind() {
    return ask<resource_kind_record>(resource_kind_request{"user", false, {}});
  }

  /// The jobs of the user controller a poll takes, by function.
  std::vector<dispatched_job> take(const std::string& fn) {
    jobs_request request;
    request.service = "resources.user";
    request.limit = 100;
    request.ttl_ms = 0;
    request.machine_id = "m1";
    auto response = self->request(cluster, caf::infinite, request);
    run();
    advance_time(0ms);
    std::vector<dispatched_job> out;
    response.receive(
        [&](std::vector<dispatched_job>& jobs) {
          for (auto& job : jobs)
            if (job.target_fn == fn)
              out.push_back(std::move(job));
            else
              held.push_back(std::move(job));
        },
        [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  }

  /// Jobs of the informer's store (queued or taken), counted by function.
  std::size_t stored_jobs(const std::string& fn) const {
    std::size_t n = 0;
    for (const auto& [key, job] : store->jobs)
      n += job.service == "resources.user" && job.target_fn == fn ? 1 : 0;
    return n;
  }

  /// The informer's next run, which starts `wait` from now and not a moment before.
  dispatched_job next_run_in(caf::timespan wait) {
    advance_time(wait - 1ms);
    CAF_CHECK(take("inform").empty());
    advance_time(1ms);
    auto runs = take("inform");
    CAF_REQUIRE_EQUAL(runs.size(), 1u);
    return runs.at(0);
  }

  bool finish(const dispatched_job& job, const std::string& json_text,
              result_kind type = result_kind::resolution) {
    auto post = result(job.id, "m1", resources::encode_payload(json_text), job.attempt);
    post.type = type;
    return ask<bool>(post);
  }

  static json argument_of(const dispatched_job& job) {
    return json::parse(resources::decode_payload(job.target_args))[0];
  }

  timestamp_ms now() const { return options.wall_clock(); }

  /// Jobs of other functions the polls took along.
  std::vector<dispatched_job> held;
};

const std::string two_users =
    R"([{"kind":"user","id":"ada","object":{"name":"Ada"}},
        {"kind":"user","id":"bob","object":{"name":"Bob"},"version":2}])";

} // namespace

CAF_TEST_FIXTURE_SCOPE(resource_informers_tests, fixture)

CAF_TEST(an informer runs at once and then every interval) {
  auto effective = set_interval(5);
  CAF_CHECK_EQUAL(effective.inform_interval_seconds, 5);
  CAF_CHECK_EQUAL(effective.last_informed_at, 0);
  auto started = now();
  auto first = take("inform");
  CAF_REQUIRE_EQUAL(first.size(), 1u);
  CAF_CHECK_EQUAL(argument_of(first[0]),
                  (json{{"kind", "user"}, {"lastRunAt", nullptr}}));
  CAF_CHECK_EQUAL(store->job("c1", first[0].id)->timeout_seconds, 30);
  auto writes = store->resource_writes;
  CAF_CHECK(finish(first[0], two_users));
  // The informs and the run's time in one commit.
  CAF_CHECK_EQUAL(store->resource_writes, writes + 1);
  CAF_REQUIRE(store->resource("c1", "user", "ada") != nullptr);
  CAF_CHECK_EQUAL(store->resource("c1", "user", "bob")->version, 2);
  CAF_CHECK_EQUAL(store->resource_kinds.at("c1/user").last_informed_at, started);
  CAF_CHECK_EQUAL(kind().last_informed_at, started);
  CAF_CHECK_EQUAL(take("work").size(), 2u);
  auto second = next_run_in(5s);
  CAF_CHECK_EQUAL(json(argument_of(second)["lastRunAt"]), started);
  // Unchanged objects: the run writes its time only, and no work.
  CAF_CHECK(finish(second, two_users));
  CAF_CHECK_EQUAL(stored_jobs("work"), 2u);
  CAF_CHECK_EQUAL(store->resource_kinds.at("c1/user").last_informed_at, started + 5000);
}

CAF_TEST(only one run of a kind is in flight) {
  set_interval(1);
  auto first = take("inform");
  CAF_REQUIRE_EQUAL(first.size(), 1u);
  // Intervals pass while it runs: no second run.
  advance_in_steps(5s);
  CAF_CHECK(take("inform").empty());
  CAF_CHECK_EQUAL(stored_jobs("inform"), 1u);
  CAF_CHECK(finish(first[0], "[]"));
  advance_time(1s);
  CAF_CHECK_EQUAL(take("inform").size(), 1u);
  CAF_CHECK_EQUAL(stored_jobs("inform"), 2u);
}

CAF_TEST(a failed run is retried at the next interval) {
  set_interval(5);
  auto first = take("inform");
  CAF_REQUIRE_EQUAL(first.size(), 1u);
  CAF_CHECK(finish(first[0], R"({"message":"source down"})", result_kind::rejection));
  CAF_CHECK_EQUAL(kind().inform_error, "source down");
  CAF_CHECK_EQUAL(kind().last_informed_at, 0);
  advance_time(5s);
  auto second = take("inform");
  CAF_REQUIRE_EQUAL(second.size(), 1u);
  CAF_CHECK(json(argument_of(second[0])["lastRunAt"]).is_null());
  // A malformed item is the run's error; nothing of the run is applied.
  CAF_CHECK(finish(second[0], R"([{"kind":"user","id":"ok","object":{}},
                                  {"kind":"user","id":"no object"}])"));
  CAF_CHECK_EQUAL(kind().inform_error.find("resolution[1]"), 0u);
  CAF_CHECK(store->resource("c1", "user", "ok") == nullptr);
  CAF_CHECK_EQUAL(kind().last_informed_at, 0);
  advance_time(5s);
  auto third = take("inform");
  CAF_REQUIRE_EQUAL(third.size(), 1u);
  CAF_CHECK(finish(third[0], two_users));
  CAF_CHECK(kind().inform_error.empty());
  CAF_CHECK_NOT_EQUAL(kind().last_informed_at, 0);
}

CAF_TEST(a failed run keeps its error across a restart until a run succeeds) {
  set_interval(5);
  CAF_CHECK(finish(take("inform").at(0), R"({"message":"source down"})",
                   result_kind::rejection));
  restart_cluster();
  CAF_CHECK_EQUAL(kind().inform_error, "source down");
  // A settings change keeps it.
  resource_kind_request put{"user", true, {}};
  put.settings.inform_interval_seconds = 5;
  put.settings.timeout_seconds = 20;
  CAF_CHECK_EQUAL(ask<resource_kind_record>(put).inform_error, "source down");
  run();
  restart_cluster();
  CAF_CHECK_EQUAL(kind().inform_error, "source down");
  CAF_CHECK_EQUAL(kind().timeout_seconds, 20);
  // The next run (due at once: none has succeeded) succeeds and clears it for good.
  auto runs = take("inform");
  CAF_REQUIRE_EQUAL(runs.size(), 1u);
  CAF_CHECK(finish(runs[0], "[]"));
  CAF_CHECK(kind().inform_error.empty());
  restart_cluster();
  CAF_CHECK(kind().inform_error.empty());
  CAF_CHECK_NOT_EQUAL(kind().last_informed_at, 0);
}

CAF_TEST(a run that times out is retried at the next interval) {
  resource_kind_request put{"user", true, {}};
  put.settings.inform_interval_seconds = 60;
  put.settings.timeout_seconds = 2;
  ask<resource_kind_record>(put);
  run();
  CAF_REQUIRE_EQUAL(take("inform").size(), 1u);
  // The worker takes it and goes silent: the job times out.
  advance_in_steps(3s);
  CAF_CHECK_NOT_EQUAL(kind().inform_error.find("did not finish"), std::string::npos);
  advance_in_steps(57s);
  CAF_CHECK_EQUAL(take("inform").size(), 1u);
}

CAF_TEST(the last run is durable and paces the schedule after a restart) {
  set_interval(10);
  auto started = now();
  CAF_CHECK(finish(take("inform").at(0), two_users));
  advance_time(3s);
  restart_cluster();
  CAF_CHECK_EQUAL(kind().inform_interval_seconds, 10);
  CAF_CHECK_EQUAL(kind().last_informed_at, started);
  // Due ten seconds after the last run, not at the restart.
  auto next = next_run_in(7s);
  CAF_CHECK_EQUAL(json(argument_of(next)["lastRunAt"]), started);
}

CAF_TEST(the last run shows while the live jobs still load after a restart) {
  set_interval(10);
  auto started = now();
  CAF_CHECK(finish(take("inform").at(0), two_users));
  // The cluster serves again while its live jobs (the two works) wait in their first
  // page: the informers are not scheduled before they are in.
  store->hold_live_job_pages = true;
  restart_cluster();
  CAF_REQUIRE_EQUAL(store->held_pages.size(), 1u);
  CAF_CHECK_EQUAL(kind().last_informed_at, started);
  CAF_CHECK_EQUAL(kind().inform_interval_seconds, 10);
  store->hold_live_job_pages = false;
  caf::anon_send(db, flush_atom::value);
  run();
  CAF_CHECK_EQUAL(kind().last_informed_at, started);
}

CAF_TEST(a run in flight at a restart does not block the next) {
  set_interval(10);
  auto lost = take("inform");
  CAF_REQUIRE_EQUAL(lost.size(), 1u);
  restart_cluster();
  // Never succeeded: the new owner runs at once, and the old run's result is ignored.
  run();
  auto again = take("inform");
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  finish(lost[0], two_users);
  CAF_CHECK(store->resource("c1", "user", "ada") == nullptr);
  CAF_CHECK(finish(again[0], "[]"));
  CAF_CHECK_NOT_EQUAL(kind().last_informed_at, 0);
}

CAF_TEST(a queued run at a restart is waited for and not doubled) {
  set_interval(10);
  auto started = now();
  CAF_REQUIRE_EQUAL(stored_jobs("inform"), 1u);
  advance_time(2s);
  restart_cluster();
  run();
  // The run from before the restart is still queued: the new owner starts none.
  CAF_CHECK_EQUAL(stored_jobs("inform"), 1u);
  auto runs = take("inform");
  CAF_REQUIRE_EQUAL(runs.size(), 1u);
  CAF_CHECK(finish(runs[0], two_users));
  CAF_CHECK(store->resource("c1", "user", "ada") != nullptr);
  CAF_CHECK_EQUAL(kind().last_informed_at, started);
  // And the schedule goes on: the interval that passed while it ran started none.
  auto next = next_run_in(10s);
  CAF_CHECK_EQUAL(json(argument_of(next)["lastRunAt"]), started);
}

CAF_TEST(a running run handed over with its cluster is waited for) {
  set_interval(10);
  auto running = take("inform");
  CAF_REQUIRE_EQUAL(running.size(), 1u);
  hand_over_cluster();
  run();
  advance_in_steps(5s);
  CAF_CHECK(take("inform").empty());
  CAF_CHECK_EQUAL(stored_jobs("inform"), 1u);
  // Its result, posted to the new owner, is the run's.
  CAF_CHECK(finish(running[0], two_users));
  CAF_CHECK(store->resource("c1", "user", "ada") != nullptr);
  CAF_CHECK_NOT_EQUAL(kind().last_informed_at, 0);
}

CAF_TEST(turning the informer off stops its runs) {
  set_interval(5);
  CAF_CHECK(finish(take("inform").at(0), "[]"));
  auto last = kind().last_informed_at;
  set_interval(0);
  advance_in_steps(20s);
  CAF_CHECK(take("inform").empty());
  // Settings changes keep the last run.
  CAF_CHECK_EQUAL(kind().last_informed_at, last);
  CAF_CHECK_EQUAL(store->resource_kinds.at("c1/user").last_informed_at, last);
}

CAF_TEST(settings of one kind changed twice in one step commit once) {
  // The first PUT's commit is in flight while the next two queue: one step.
  std::vector<decltype(self->request(cluster, caf::infinite, resource_kind_request{}))>
      answers;
  for (int base : {100, 200, 300}) {
    resource_kind_request put{"user", true, {}};
    put.settings.backoff_base_ms = base;
    answers.push_back(self->request(cluster, caf::infinite, put));
  }
  run();
  for (auto& answer : answers)
    answer.receive([](resource_kind_record&) {},
                   [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK_EQUAL(kind().backoff_base_ms, 300);
  CAF_CHECK_EQUAL(store->resource_kinds.at("c1/user").backoff_base_ms, 300);
}

CAF_TEST_FIXTURE_SCOPE_END()
