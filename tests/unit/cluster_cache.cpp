#define CAF_SUITE cluster_cache

#include "cluster_fixture.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::cluster_fixture {
  create_job_request cached(std::int32_t ttl_seconds, const std::string& key = "k") {
    create_job_request request;
    request.service = "svc";
    request.target_fn = "f";
    request.target_args = "YXJncw==";
    request.cache_key = key;
    request.cache_ttl_seconds = ttl_seconds;
    return request;
  }

  /// Dispatches every pending job to m1 and posts `type` for `id`.
  void finish(const std::string& id, result_kind type = result_kind::resolution) {
    ask<std::vector<dispatched_job>>(poll("m1"));
    auto post = result(id, "m1");
    post.type = type;
    CAF_REQUIRE(ask<bool>(post));
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_cache_tests, fixture)

CAF_TEST(a cached resolution answers until its ttl passes and not after) {
  auto first = ask<std::string>(cached(60));
  finish(first);
  advance_time(60s - 1ms);
  CAF_CHECK_EQUAL(ask<std::string>(cached(60)), first);
  advance_time(1ms);
  auto second = ask<std::string>(cached(60));
  CAF_CHECK_NOT_EQUAL(second, first);
  // The caller's own ttl decides: a longer one still reaches the first resolution.
  CAF_CHECK_EQUAL(ask<std::string>(cached(3600)), first);
}

CAF_TEST(a rejection is not cached) {
  auto rejected = ask<std::string>(cached(60));
  finish(rejected, result_kind::rejection);
  auto again = ask<std::string>(cached(60));
  CAF_CHECK_NOT_EQUAL(again, rejected);
  CAF_CHECK_EQUAL(store->jobs.size(), 2u);
}

CAF_TEST(a failure is not cached) {
  auto request = cached(60);
  request.retry_count_on_stall = 0;
  request.timeout_seconds = 5;
  auto failed = ask<std::string>(request);
  ask<std::vector<dispatched_job>>(poll("m1"));
  advance_in_steps(6s);
  CAF_REQUIRE_EQUAL(store->job("c1", failed)->status, job_status::failure);
  CAF_CHECK_NOT_EQUAL(ask<std::string>(cached(60)), failed);
}

CAF_TEST(the newest resolution is the one returned) {
  auto older = ask<std::string>(cached(10));
  finish(older);
  advance_time(20s);
  auto newer = ask<std::string>(cached(10));
  CAF_REQUIRE_NOT_EQUAL(newer, older);
  finish(newer);
  // Both resolutions are within an hour; the newer one answers.
  CAF_CHECK_EQUAL(ask<std::string>(cached(3600)), newer);
}

CAF_TEST(the job that resolved last wins even if it was created first) {
  auto first = ask<std::string>(cached(60));
  auto second = ask<std::string>(cached(60)); // nothing resolved yet: a second job
  CAF_REQUIRE_NOT_EQUAL(first, second);
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_REQUIRE_EQUAL(jobs.size(), 2u);
  CAF_REQUIRE(ask<bool>(result(second, "m1")));
  advance_time(1s);
  CAF_REQUIRE(ask<bool>(result(first, "m1")));
  CAF_CHECK_EQUAL(ask<std::string>(cached(60)), first);
}

CAF_TEST(keys are separate per function and key) {
  auto a = ask<std::string>(cached(60, "a"));
  finish(a);
  CAF_CHECK_NOT_EQUAL(ask<std::string>(cached(60, "b")), a);
  auto other_fn = cached(60, "a");
  other_fn.target_fn = "g";
  CAF_CHECK_NOT_EQUAL(ask<std::string>(other_fn), a);
  CAF_CHECK_EQUAL(ask<std::string>(cached(60, "a")), a);
}

CAF_TEST(cached resolutions survive a restart with their age) {
  auto first = ask<std::string>(cached(60));
  finish(first);
  advance_time(30s);
  restart_cluster();
  CAF_CHECK_EQUAL(ask<std::string>(cached(60)), first);
  advance_time(30s);
  CAF_CHECK_NOT_EQUAL(ask<std::string>(cached(60)), first);
}

CAF_TEST(a ttl longer than the cluster remembers finds the resolution in the store) {
  constexpr std::int32_t three_days = 3 * 24 * 3600;
  auto first = ask<std::string>(cached(three_days));
  finish(first);
  // Past the day the cluster keeps resolutions in memory, the sweep forgets this one.
  advance_in_steps(25h, 1h);
  // A ttl within that day is answered from memory: a miss, so a new job.
  auto within_day = ask<std::string>(cached(24 * 3600));
  CAF_CHECK_NOT_EQUAL(within_day, first);
  // A longer ttl reaches the older resolution, read from the store.
  CAF_CHECK_EQUAL(ask<std::string>(cached(three_days)), first);
  CAF_CHECK_EQUAL(ask<std::string>(cached(26 * 3600)), first);
  // Not once that ttl too has passed.
  advance_in_steps(48h, 1h);
  CAF_CHECK_NOT_EQUAL(ask<std::string>(cached(three_days)), first);
}

CAF_TEST_FIXTURE_SCOPE_END()
