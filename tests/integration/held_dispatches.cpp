#define CAF_SUITE held_dispatches

#include "writer_fixture.hpp"

// The real writer on a real database, its timer on the deterministic clock: the writer
// holds a job's dispatch back for a moment and keeps one timer for what it holds.

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

constexpr auto hold = 500ms;

struct fixture : testing::writer_fixture {
  fixture() : writer_fixture(hold) {}

  std::size_t pending_timers() { return sched.clock().schedule().size(); }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(held_dispatch_tests, fixture)

CAF_TEST(
    commits while a dispatch is held leave one timer and the dispatch lands when due) {
  insert("held");
  auto held = self->request(writer, caf::infinite, dispatch_of("held"));
  // Each insert is answered after its own commit: twenty commits pass the held write.
  for (int i = 0; i < 20; ++i)
    insert("other-" + std::to_string(i));
  CAF_CHECK_EQUAL(pending_timers(), 1u);
  CAF_CHECK_EQUAL(status_in_database("held"), "pending");

  CAF_CHECK_EQUAL(sched.clock().advance_time(hold), 1u);
  CAF_CHECK(answered_done(held, "dispatch write"));
  CAF_CHECK_EQUAL(status_in_database("held"), "running");
  // Nothing is held any more, so nothing is left to time (the insert orders our read
  // after the writer's last step).
  insert("after");
  CAF_CHECK_EQUAL(pending_timers(), 0u);
}

CAF_TEST(a dispatch superseded before it is due is answered and never written) {
  insert("fast");
  auto held = self->request(writer, caf::infinite, dispatch_of("fast"));
  auto result = dispatch_of("fast");
  result.status = job_status::success;
  result.result_type = result_kind::resolution;
  result.result = "done";
  result.resulted_at = 1700000000100;
  result.revision = 3;
  auto result_write = self->request(writer, caf::infinite, result);
  CAF_CHECK(answered_done(result_write, "result write"));
  CAF_CHECK(answered_done(held, "dispatch write"));
  CAF_CHECK_EQUAL(status_in_database("fast"), "success");
  // The timer armed for the dispatch fires into an empty hold and is not set again.
  CAF_CHECK_EQUAL(sched.clock().advance_time(hold), 1u);
  insert("after");
  CAF_CHECK_EQUAL(pending_timers(), 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
