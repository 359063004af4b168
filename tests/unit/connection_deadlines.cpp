#define CAF_SUITE connection_deadlines

#include "gateway/connection_deadlines.hpp"

#include <caf/test/unit_test.hpp>

#include <memory>

using diffplane::gateway::connection_deadlines;
using namespace std::chrono_literals;

// The sweep that replaces a timer per socket operation: it must find exactly the
// connections past their deadline, and forget the ones that are gone.

namespace {

struct connection : connection_deadlines::entry {
  int expired = 0;
  void expire() override { ++expired; }
};

} // namespace

CAF_TEST(only armed connections past their deadline expire) {
  connection_deadlines deadlines;
  auto start = connection_deadlines::clock::now();
  auto idle = std::make_shared<connection>();
  auto slow = std::make_shared<connection>();
  auto busy = std::make_shared<connection>();
  for (const auto& c : {idle, slow, busy})
    deadlines.watch(c);
  idle->arm(start + 1s);
  slow->arm(start + 5s);
  // busy is handling a request: no deadline.
  CAF_CHECK_EQUAL(deadlines.expire_due(start + 999ms), 0u);
  CAF_CHECK_EQUAL(deadlines.expire_due(start + 1s), 1u);
  CAF_CHECK_EQUAL(idle->expired, 1);
  // Re-armed by its next operation, a connection is not overdue any more.
  idle->arm(start + 10s);
  CAF_CHECK_EQUAL(deadlines.expire_due(start + 6s), 1u);
  CAF_CHECK_EQUAL(idle->expired, 1);
  CAF_CHECK_EQUAL(slow->expired, 1);
  slow->disarm();
  CAF_CHECK_EQUAL(deadlines.expire_due(start + 8s), 0u);
  CAF_CHECK_EQUAL(busy->expired, 0);
}

CAF_TEST(a destroyed connection is forgotten by the next sweep) {
  connection_deadlines deadlines;
  auto start = connection_deadlines::clock::now();
  auto stays = std::make_shared<connection>();
  deadlines.watch(stays);
  {
    auto gone = std::make_shared<connection>();
    gone->arm(start);
    deadlines.watch(gone);
  }
  CAF_CHECK_EQUAL(deadlines.size(), 2u);
  CAF_CHECK_EQUAL(deadlines.expire_due(start + 1s), 0u);
  CAF_CHECK_EQUAL(deadlines.size(), 1u);
}

CAF_TEST(the sweep interval is a quarter of the timeout within bounds) {
  using connection_deadlines_clock = connection_deadlines::clock;
  CAF_CHECK(connection_deadlines::interval_for(1s) ==
            connection_deadlines_clock::duration{250ms});
  CAF_CHECK(connection_deadlines::interval_for(60s) ==
            connection_deadlines_clock::duration{1s});
  CAF_CHECK(connection_deadlines::interval_for(1ms) ==
            connection_deadlines_clock::duration{10ms});
}
