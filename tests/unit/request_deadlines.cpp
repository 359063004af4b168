#define CAF_SUITE request_deadlines

#include "gateway/request_deadlines.hpp"

#include <caf/test/unit_test.hpp>

using diffplane::gateway::request_deadlines;
using namespace std::chrono_literals;

namespace {

struct fixture {
  request_deadlines deadlines;
  request_deadlines::clock::time_point start = request_deadlines::clock::now();
  std::vector<int> expired;

  std::uint64_t open(int name, std::chrono::seconds after) {
    return deadlines.open(start + after, [this, name] { expired.push_back(name); });
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(request_deadlines_tests, fixture)

CAF_TEST(only overdue requests expire and each only once) {
  open(1, 1s);
  open(2, 5s);
  deadlines.expire_due(start + 2s);
  CAF_REQUIRE_EQUAL(expired.size(), 1u);
  CAF_CHECK_EQUAL(expired[0], 1);
  deadlines.expire_due(start + 3s);
  CAF_CHECK_EQUAL(expired.size(), 1u);
  deadlines.expire_due(start + 5s);
  CAF_CHECK_EQUAL(expired.size(), 2u);
  CAF_CHECK(deadlines.empty());
}

CAF_TEST(a closed request never expires) {
  auto id = open(1, 1s);
  CAF_CHECK(deadlines.close(id));
  deadlines.expire_due(start + 10s);
  CAF_CHECK(expired.empty());
}

CAF_TEST(an answer after the expiry is reported as late) {
  auto id = open(1, 1s);
  deadlines.expire_due(start + 1s);
  CAF_CHECK_EQUAL(expired.size(), 1u);
  CAF_CHECK(!deadlines.close(id));
}

CAF_TEST(an expiry may open a new request) {
  deadlines.open(start + 1s, [this] {
    expired.push_back(1);
    open(2, 1s);
  });
  deadlines.expire_due(start + 1s);
  CAF_CHECK_EQUAL(deadlines.size(), 1u);
  deadlines.expire_due(start + 1s);
  CAF_CHECK_EQUAL(expired.size(), 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
