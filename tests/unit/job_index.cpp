#define CAF_SUITE job_index

#include "cluster_fixture.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

// The cluster's job index keeps live and finished jobs apart (actors/job_index.hpp): a
// job moves from one to the other as it finishes, and back when it is admitted again.
namespace {

struct fixture : testing::cluster_fixture {
  /// Whether a request has been answered (answers are mail in the test's mailbox).
  bool answered() { return !self->mailbox().empty(); }

  job_status status_of(const std::string& id) {
    auto rows = ask<std::vector<job_status_row>>(status_request{{id}, 0, true});
    CAF_REQUIRE_EQUAL(rows.size(), 1u);
    return rows[0].status;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(job_index_tests, fixture)

CAF_TEST(a finished job stays known by its execution id and refuses late results) {
  auto id = ask<std::string>(create_request("x1"));
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
  CAF_CHECK_EQUAL(status_of(id), job_status::running);
  CAF_CHECK(ask<bool>(result(id, "m1")));
  CAF_CHECK_EQUAL(status_of(id), job_status::success);
  // Finished: a create of its execution id answers it, and creates nothing.
  auto inserts = store->job_inserts;
  CAF_CHECK_EQUAL(ask<std::string>(create_request("x1")), "x1");
  CAF_CHECK_EQUAL(store->job_inserts, inserts);
  // A late result is refused by the cluster, as "not persisted".
  CAF_CHECK(!ask<bool>(result(id, "m1")));
}

CAF_TEST(a waiter on a live and a finished job is answered when the live one finishes) {
  auto first = create("f");
  auto second = create("f");
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1", 1)).size(), 1u);
  CAF_CHECK(ask<bool>(result(first, "m1")));
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1", 1)).size(), 1u);
  // Parked on the live job alone (a finished one would answer at once).
  auto waiting =
      self->request(cluster, caf::infinite, status_request{{second}, 60000, true});
  run();
  CAF_CHECK(!answered());
  CAF_CHECK(ask<bool>(result(second, "m1", "c2Vjb25k")));
  std::vector<job_status_row> rows;
  waiting.receive([&](std::vector<job_status_row>& x) { rows = std::move(x); },
                  [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::success);
  CAF_CHECK_EQUAL(rows[0].result, "c2Vjb25k");
  // Both are in the finished table now, their results served from memory.
  auto both = ask<std::vector<job_status_row>>(status_request{{first, second}, 0, false});
  CAF_REQUIRE_EQUAL(both.size(), 2u);
  CAF_CHECK_EQUAL(both[0].result, "cmVzdWx0");
  CAF_CHECK_EQUAL(both[1].result, "c2Vjb25k");
}

CAF_TEST(a finished job leaves the index after the linger and is read from the store) {
  auto id = create("f");
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
  CAF_CHECK(ask<bool>(result(id, "m1")));
  advance_in_steps(options.result_linger + options.sweep_interval * 2);
  // Not in memory: its row answers, and a late result is refused from it.
  CAF_CHECK_EQUAL(status_of(id), job_status::success);
  CAF_CHECK(!ask<bool>(result(id, "m1")));
  // A live job is unaffected by the linger.
  auto live = create("f");
  advance_in_steps(options.result_linger + options.sweep_interval * 2);
  CAF_CHECK_EQUAL(status_of(live), job_status::pending);
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
  CAF_CHECK(ask<bool>(result(live, "m1")));
  CAF_CHECK_EQUAL(status_of(live), job_status::success);
}

CAF_TEST_FIXTURE_SCOPE_END()
