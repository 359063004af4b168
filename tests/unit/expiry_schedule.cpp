#define CAF_SUITE expiry_schedule

#include "actors/expiry_schedule.hpp"

#include <caf/test/unit_test.hpp>

#include <chrono>

using namespace std::chrono_literals;

namespace {

using time_point = std::chrono::steady_clock::time_point;
using schedule = diffplane::expiry_schedule<time_point>;

struct fixture {
  schedule expiries;
  time_point start{1h};
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(expiry_schedule_tests, fixture)

CAF_TEST(requests with one ttl share the timer of the first) {
  auto first = expiries.add(1, start + 5s);
  CAF_REQUIRE(first.has_value());
  CAF_CHECK(*first == start + 5s);
  for (std::uint64_t id = 2; id <= 100; ++id) {
    auto arm = expiries.add(id, start + 5s + std::chrono::milliseconds{id});
    CAF_CHECK(!arm.has_value());
  }
  CAF_CHECK_EQUAL(expiries.armed(), 1u);
}

CAF_TEST(an earlier request arms a timer of its own) {
  expiries.add(1, start + 5s);
  auto arm = expiries.add(2, start + 1s);
  CAF_REQUIRE(arm.has_value());
  CAF_CHECK(*arm == start + 1s);
  CAF_CHECK_EQUAL(expiries.armed(), 2u);
  auto fired = expiries.fire(start + 1s, start + 1s);
  CAF_REQUIRE_EQUAL(fired.due.size(), 1u);
  CAF_CHECK_EQUAL(fired.due[0], 2u);
  // The timer of the first is still armed.
  CAF_CHECK(!fired.arm.has_value());
  fired = expiries.fire(start + 5s, start + 5s);
  CAF_REQUIRE_EQUAL(fired.due.size(), 1u);
  CAF_CHECK_EQUAL(fired.due[0], 1u);
  CAF_CHECK(expiries.empty());
  CAF_CHECK_EQUAL(expiries.armed(), 0u);
}

CAF_TEST(a fired timer rearms for the next request still parked) {
  expiries.add(1, start + 5s);
  expiries.add(2, start + 7s);
  expiries.add(3, start + 9s);
  // The first was answered before its ttl: nothing is due, the next one is armed.
  expiries.remove(1, start + 5s);
  auto fired = expiries.fire(start + 5s, start + 5s);
  CAF_CHECK(fired.due.empty());
  CAF_REQUIRE(fired.arm.has_value());
  CAF_CHECK(*fired.arm == start + 7s);
  // A timer that arrives late expires everything due by then.
  fired = expiries.fire(start + 7s, start + 9s);
  CAF_REQUIRE_EQUAL(fired.due.size(), 2u);
  CAF_CHECK_EQUAL(fired.due[0], 2u);
  CAF_CHECK_EQUAL(fired.due[1], 3u);
  CAF_CHECK(!fired.arm.has_value());
  CAF_CHECK_EQUAL(expiries.armed(), 0u);
}

CAF_TEST(a removed request never expires and removing twice is harmless) {
  expiries.add(1, start + 1s);
  expiries.remove(1, start + 1s);
  expiries.remove(1, start + 1s);
  auto fired = expiries.fire(start + 1s, start + 2s);
  CAF_CHECK(fired.due.empty());
  CAF_CHECK(!fired.arm.has_value());
}

CAF_TEST(a time survives the trip through a timer message) {
  auto at = start + 1234567ns;
  CAF_CHECK(schedule::decode(schedule::encode(at)) == at);
}

CAF_TEST_FIXTURE_SCOPE_END()
