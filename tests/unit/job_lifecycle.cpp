#define CAF_SUITE job_lifecycle

#include "actors/job_lifecycle.hpp"

#include <caf/test/unit_test.hpp>

using namespace diffplane;

namespace {

job_record new_job(std::int32_t retries) {
  create_job_request request;
  request.service = "svc";
  request.target_fn = "fn";
  request.target_args = "kA==";
  request.retry_count_on_stall = retries;
  return lifecycle::make_job("c", "j", request, 1000);
}

job_result_post result_from(const std::string& machine) {
  job_result_post post;
  post.job_id = "j";
  post.machine_id = machine;
  post.result = "wg==";
  post.type = result_kind::resolution;
  post.function_execution_time_ms = 5;
  return post;
}

} // namespace

CAF_TEST(attempts are one plus the retries on stall) {
  CAF_CHECK_EQUAL(lifecycle::max_attempts_for(0), 1);
  CAF_CHECK_EQUAL(lifecycle::max_attempts_for(1), 2);
  CAF_CHECK_EQUAL(lifecycle::max_attempts_for(-3), 1);
  CAF_CHECK_EQUAL(new_job(3).max_attempts, 4);
}

CAF_TEST(a dispatched job accepts a result only from its machine) {
  auto job = new_job(1);
  CAF_CHECK(!lifecycle::accepts_result(job, result_from("m1")));
  lifecycle::dispatch(job, "m1", 2000);
  CAF_CHECK_EQUAL(job.status, job_status::running);
  CAF_CHECK_EQUAL(job.attempts_used, 1);
  CAF_CHECK(!lifecycle::accepts_result(job, result_from("m2")));
  CAF_CHECK(!lifecycle::accepts_result(job, result_from("")));
  CAF_REQUIRE(lifecycle::accepts_result(job, result_from("m1")));
  auto revision = job.revision;
  lifecycle::resolve(job, result_from("m1"), 3000);
  CAF_CHECK_EQUAL(job.status, job_status::success);
  CAF_CHECK_EQUAL(job.result, "wg==");
  CAF_CHECK_EQUAL(job.result_type, result_kind::resolution);
  CAF_CHECK_EQUAL(job.function_execution_time_ms, 5);
  CAF_CHECK_GREATER(job.revision, revision);
  CAF_CHECK(!lifecycle::accepts_result(job, result_from("m1")));
}

CAF_TEST(a resolution whose write failed is taken back field by field) {
  auto job = new_job(1);
  lifecycle::dispatch(job, "m1", 2000);
  auto before = job;
  auto replaced = lifecycle::resolve(job, result_from("m1"), 3000);
  lifecycle::undo(job, std::move(replaced));
  CAF_CHECK_EQUAL(job.status, before.status);
  CAF_CHECK_EQUAL(job.result_type, before.result_type);
  CAF_CHECK_EQUAL(job.result, before.result);
  CAF_CHECK_EQUAL(job.function_execution_time_ms, before.function_execution_time_ms);
  CAF_CHECK_EQUAL(job.resulted_at, before.resulted_at);
  CAF_CHECK_EQUAL(job.revision, before.revision);
  CAF_CHECK(lifecycle::accepts_result(job, result_from("m1")));
}

CAF_TEST(a stalled job returns to pending until its attempts are spent) {
  auto job = new_job(1);
  lifecycle::dispatch(job, "m1", 2000);
  CAF_CHECK_EQUAL(lifecycle::stall(job, 3000), job_status::pending);
  CAF_CHECK_EQUAL(job.executing_machine_id, "m1"); // the last attempt's machine
  CAF_CHECK(!lifecycle::accepts_result(job, result_from("m1")));
  lifecycle::dispatch(job, "m2", 4000);
  CAF_CHECK_EQUAL(job.attempts_used, 2);
  CAF_CHECK_EQUAL(lifecycle::stall(job, 5000), job_status::failure);
  CAF_CHECK_EQUAL(job.resulted_at, 5000);
}

CAF_TEST(recovery counts a running attempt as stalled and leaves pending jobs alone) {
  auto pending = new_job(0);
  CAF_CHECK(!lifecycle::recover(pending, 1));
  CAF_CHECK_EQUAL(pending.status, job_status::pending);
  auto running = new_job(1);
  lifecycle::dispatch(running, "m1", 2);
  CAF_CHECK(lifecycle::recover(running, 3));
  CAF_CHECK_EQUAL(running.status, job_status::pending);
  lifecycle::dispatch(running, "m1", 4);
  CAF_CHECK(lifecycle::recover(running, 5));
  CAF_CHECK_EQUAL(running.status, job_status::failure);
}

CAF_TEST(every transition grows the revision) {
  auto job = new_job(2);
  auto r0 = job.revision;
  lifecycle::dispatch(job, "m", 1);
  auto r1 = job.revision;
  lifecycle::stall(job, 2);
  auto r2 = job.revision;
  CAF_CHECK(r0 < r1 && r1 < r2);
  CAF_CHECK_EQUAL(lifecycle::state_of(job).revision, r2);
}
