#define CAF_SUITE held_requests

#include "gateway/held_requests.hpp"

#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

// The open requests of a bridge actor by the cluster actor holding them: each actor is
// announced once (to be monitored), and its down takes exactly what it still holds.
using diffplane::gateway::held_request;
using diffplane::gateway::held_requests;

namespace {

struct noted_request : held_request {
  explicit noted_request(std::string name) : name(std::move(name)) {}
  void holder_down() override {}
  std::string name;
};

struct fixture {
  held_requests held;
  int a = 0;
  int b = 0;

  static std::shared_ptr<held_request> request(const std::string& name) {
    return std::make_shared<noted_request>(name);
  }

  static std::vector<std::string>
  names(const std::vector<std::shared_ptr<held_request>>& xs) {
    std::vector<std::string> result;
    for (const auto& x : xs)
      result.push_back(static_cast<const noted_request&>(*x).name);
    std::sort(result.begin(), result.end());
    return result;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(held_requests_tests, fixture)

CAF_TEST(an actor is new only for its first request until its down) {
  CAF_CHECK(held.hold(&a, 1, request("1")));
  CAF_CHECK(!held.hold(&a, 2, request("2")));
  CAF_CHECK(held.release(&a, 1));
  CAF_CHECK(held.release(&a, 2));
  // Monitored still, though it holds nothing now.
  CAF_CHECK(!held.hold(&a, 3, request("3")));
  CAF_CHECK_EQUAL(held.holders(), 1u);
  held.take(&a);
  CAF_CHECK_EQUAL(held.holders(), 0u);
  CAF_CHECK(held.hold(&a, 4, request("4")));
}

CAF_TEST(a down takes what its actor still holds and nothing of another) {
  held.hold(&a, 1, request("a1"));
  held.hold(&a, 2, request("a2"));
  held.hold(&a, 3, request("a3"));
  held.hold(&b, 4, request("b4"));
  held.release(&a, 2);
  auto taken = names(held.take(&a));
  CAF_CHECK_EQUAL(taken, (std::vector<std::string>{"a1", "a3"}));
  CAF_CHECK_EQUAL(held.size(&a), 0u);
  CAF_CHECK_EQUAL(held.size(&b), 1u);
  CAF_CHECK(held.take(&a).empty());
}

CAF_TEST(a request taken by a down is released no more) {
  held.hold(&a, 1, request("a1"));
  held.take(&a);
  // The bounce of the same request arrives after the down: it must not be found again
  // a second time.
  CAF_CHECK(!held.release(&a, 1));
  CAF_CHECK(!held.release(&b, 1));
}

CAF_TEST_FIXTURE_SCOPE_END()
