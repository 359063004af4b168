#define CAF_SUITE cluster_execution_ids

#include "cluster_fixture.hpp"

#include "persistence/errors.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::cluster_fixture {
  create_job_request with_execution_id(const std::string& id) {
    return create_request(id);
  }

  /// Puts a pending job with this id in the store only, as after a commit whose
  /// acknowledgement was lost: the row is there, the cluster never admitted it.
  void store_unadmitted(const std::string& id) {
    job_record job;
    job.cluster_id = info.id;
    job.id = id;
    job.service = "svc";
    job.target_fn = "f";
    job.target_args = "YQ==";
    job.revision = 1;
    job.created_at = wall_clock_start;
    store->jobs["c1/" + id] = job;
  }

  /// How many jobs a poll with a large limit gets now; 0 when it parks (left parked).
  std::size_t dispatchable() {
    auto parked_before = parked->load();
    auto response = self->request(cluster, caf::infinite, poll("m9", 100));
    run();
    if (parked->load() > parked_before)
      return 0;
    std::size_t count = 0;
    response.receive([&](std::vector<dispatched_job>& jobs) { count = jobs.size(); },
                     [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return count;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_execution_ids_tests, fixture)

CAF_TEST(two concurrent creates of one execution id make one job) {
  auto first = self->request(cluster, caf::infinite, with_execution_id("exec-1"));
  auto second = self->request(cluster, caf::infinite, with_execution_id("exec-1"));
  run();
  for (auto* response : {&first, &second})
    response->receive([](std::string& id) { CAF_CHECK_EQUAL(id, "exec-1"); },
                      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK_EQUAL(store->jobs.size(), 1u);
  CAF_CHECK_EQUAL(dispatchable(), 1u);
}

CAF_TEST(an execution id repeated after its result left memory creates nothing) {
  CAF_CHECK_EQUAL(ask<std::string>(with_execution_id("exec-2")), "exec-2");
  ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_REQUIRE(ask<bool>(result("exec-2", "m1")));
  advance_in_steps(options.result_linger + 2s); // the result leaves the cluster's memory
  CAF_CHECK_EQUAL(ask<std::string>(with_execution_id("exec-2")), "exec-2");
  CAF_CHECK_EQUAL(store->jobs.size(), 1u);
  CAF_CHECK_EQUAL(store->job("c1", "exec-2")->status, job_status::success);
  CAF_CHECK_EQUAL(dispatchable(), 0u);
  auto rows = ask<std::vector<job_status_row>>(status_request{{"exec-2"}, 0, true});
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::success);
}

CAF_TEST(an execution id repeated after a restart creates nothing) {
  CAF_CHECK_EQUAL(ask<std::string>(with_execution_id("exec-3")), "exec-3");
  restart_cluster();
  CAF_CHECK_EQUAL(ask<std::string>(with_execution_id("exec-3")), "exec-3");
  CAF_CHECK_EQUAL(store->jobs.size(), 1u);
  CAF_CHECK_EQUAL(dispatchable(), 1u);
  CAF_CHECK_EQUAL(dispatchable(), 0u);
}

CAF_TEST(a live job found in the database but not in memory is admitted) {
  store_unadmitted("exec-4");
  CAF_CHECK_EQUAL(ask<std::string>(with_execution_id("exec-4")), "exec-4");
  CAF_CHECK_EQUAL(dispatchable(), 1u);
  // Admitted once: asking again does not queue it a second time.
  CAF_CHECK_EQUAL(ask<std::string>(with_execution_id("exec-4")), "exec-4");
  CAF_CHECK_EQUAL(dispatchable(), 0u);
}

CAF_TEST(a job found running in the database but not in memory counts as stalled) {
  job_record job;
  job.cluster_id = info.id;
  job.id = "exec-5";
  job.service = "svc";
  job.target_fn = "f";
  job.status = job_status::running;
  job.attempts_used = 1;
  job.max_attempts = 2;
  job.executing_machine_id = "gone";
  job.revision = 2;
  job.created_at = wall_clock_start;
  store->jobs["c1/exec-5"] = job;
  CAF_CHECK_EQUAL(ask<std::string>(with_execution_id("exec-5")), "exec-5");
  CAF_CHECK_EQUAL(store->job("c1", "exec-5")->status, job_status::pending);
  CAF_CHECK_EQUAL(dispatchable(), 1u);
}

CAF_TEST(a create found in the database is acknowledged only once it is admitted) {
  // The retry of a create whose commit landed unacknowledged, while the database cannot
  // be read (just restarted, or gone again): a 201 now would leave the job in no pool.
  store_unadmitted("exec-6");
  store->failing_reads = true;
  auto err = ask_error<std::string>(with_execution_id("exec-6"));
  CAF_CHECK_EQUAL(code_of(err), error_code::unavailable);
  // The caller retries, as told by the 503, once the database can be read again.
  store->failing_reads = false;
  CAF_CHECK_EQUAL(ask<std::string>(with_execution_id("exec-6")), "exec-6");
  CAF_CHECK_EQUAL(dispatchable(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
