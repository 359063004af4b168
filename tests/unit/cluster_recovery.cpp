#define CAF_SUITE cluster_recovery

#include "cluster_fixture.hpp"

#include "actors/job_lifecycle.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::cluster_fixture {
  job_record seeded(const std::string& id, job_status status, std::int32_t attempts_used,
                    std::int32_t max_attempts) {
    job_record job;
    job.cluster_id = info.id;
    job.id = id;
    job.service = "svc";
    job.target_fn = "f";
    job.target_args = "YQ==";
    job.status = status;
    job.attempts_used = attempts_used;
    job.max_attempts = max_attempts;
    job.executing_machine_id = status == job_status::running ? "dead-machine" : "";
    job.revision = 3;
    job.created_at = 100 + static_cast<timestamp_ms>(store->jobs.size());
    store->jobs[info.id + "/" + id] = job;
    return job;
  }

  /// The machine that ran the seeded jobs, as the previous owner stored it.
  void seed_machine() {
    store->machines[info.id + "/dead-machine"] =
        machine_record{info.id, "dead-machine", "svc", "10.0.0.1", "", wall_clock_start};
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_recovery_tests, fixture)

CAF_TEST(pending jobs come back pending and are dispatched in order) {
  seeded("a", job_status::pending, 0, 2);
  seeded("b", job_status::pending, 0, 2);
  restart_cluster();
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_REQUIRE_EQUAL(jobs.size(), 2u);
  CAF_CHECK_EQUAL(jobs[0].id, "a");
  CAF_CHECK_EQUAL(jobs[1].id, "b");
}

CAF_TEST(a running job counts its attempt as stalled) {
  seeded("retry", job_status::running, 1, 2);
  seeded("spent", job_status::running, 2, 2);
  restart_cluster();
  CAF_CHECK_EQUAL(store->job("c1", "retry")->status, job_status::pending);
  CAF_CHECK_EQUAL(store->job("c1", "spent")->status, job_status::failure);
  auto rows =
      ask<std::vector<job_status_row>>(status_request{{"retry", "spent"}, 5000, false});
  CAF_REQUIRE_EQUAL(rows.size(), 2u);
  CAF_CHECK_EQUAL(rows[1].status, job_status::failure);
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_REQUIRE_EQUAL(jobs.size(), 1u);
  CAF_CHECK_EQUAL(jobs[0].id, "retry");
  CAF_CHECK_EQUAL(jobs[0].attempt, 2);
  // The dead machine's late result does not count.
  CAF_CHECK(!ask<bool>(result("retry", "dead-machine")));
  CAF_CHECK(ask<bool>(result("retry", "m1", "cmVzdWx0", 2)));
}

CAF_TEST(a running job handed over with its lease keeps its attempt) {
  seed_machine();
  seeded("handed", job_status::running, 1, 2);
  hand_over_cluster();
  CAF_CHECK_EQUAL(store->job("c1", "handed")->status, job_status::running);
  CAF_CHECK(ask<bool>(result("handed", "dead-machine", "cmVzdWx0", 1)));
  auto job = store->job("c1", "handed");
  CAF_CHECK_EQUAL(job->status, job_status::success);
  CAF_CHECK_EQUAL(job->attempts_used, 1);
}

CAF_TEST(an adopted attempt stalls when its machine stays silent) {
  seed_machine();
  seeded("handed", job_status::running, 1, 2);
  hand_over_cluster();
  // The machine's clock starts at the load; silent past the stall window (10 s), its
  // attempt stalls like one dispatched here.
  for (int i = 0; i < 12 && store->job("c1", "handed")->status == job_status::running;
       ++i) {
    advance_time(1s);
    run();
  }
  CAF_CHECK_EQUAL(store->job("c1", "handed")->status, job_status::pending);
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_REQUIRE_EQUAL(jobs.size(), 1u);
  CAF_CHECK_EQUAL(jobs[0].attempt, 2);
}

CAF_TEST(a handed over attempt of an unknown machine counts as stalled) {
  seeded("orphan", job_status::running, 1, 2);
  hand_over_cluster();
  CAF_CHECK_EQUAL(store->job("c1", "orphan")->status, job_status::pending);
}

CAF_TEST(a result committed before a crash is served after it) {
  auto id = create("f");
  ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK(ask<bool>(result(id, "m1", "ZG9uZQ==")));
  restart_cluster();
  auto rows = ask<std::vector<job_status_row>>(status_request{{id}, 5000, true});
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::success);
  CAF_CHECK_EQUAL(rows[0].result, "ZG9uZQ==");
}

CAF_TEST(cached resolutions survive a restart) {
  create_job_request request;
  request.service = "svc";
  request.target_fn = "f";
  request.cache_key = "k";
  request.cache_ttl_seconds = 3600;
  auto first = ask<std::string>(request);
  ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK(ask<bool>(result(first, "m1")));
  restart_cluster();
  CAF_CHECK_EQUAL(ask<std::string>(request), first);
}

CAF_TEST(a sweep moves the older live jobs and no job is created before the move) {
  // Without jobs there is nothing to move, and an idle cluster writes nothing.
  advance_time(3s);
  CAF_CHECK_EQUAL(store->live_jobs_before.count("c1"), 0u);
  create("f");
  advance_time(1s);
  // The sweep asks for the jobs created more than live_jobs_delay (2 s) ago.
  CAF_CHECK_EQUAL(store->live_jobs_before["c1"], options.wall_clock() - 2000);
  // A restart on a node whose clock is an hour behind the last move.
  store->live_jobs_before["c1"] = options.wall_clock() + 3600 * 1000;
  restart_cluster();
  auto id = create("f");
  CAF_CHECK_GREATER_OR_EQUAL(store->job("c1", id)->created_at,
                             store->live_jobs_before["c1"]);
}

CAF_TEST_FIXTURE_SCOPE_END()
