#define CAF_SUITE native_bridge_batches

#include "bridge_fixture.hpp"

#include <caf/test/unit_test.hpp>

#include <chrono>
#include <future>

// The native listener hands the requests of one read to the bridge as one batch, and a
// result wait parked from its create's answer is made by the bridge actor that got the
// answer: each is one hand-off to the actors, not one per request. These run a real
// (threaded) actor system: the bridge's destructor waits for its actors, which the
// deterministic coordinator would never run.
using namespace diffplane;
using namespace std::chrono_literals;

namespace {

using fixture = testing::bridge_fixture;

template <class T> bool ready(std::future<T>& f) {
  return f.wait_for(10s) == std::future_status::ready;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(native_bridge_batches_tests, fixture)

CAF_TEST(the requests of one batch reach the cluster in order from one bridge actor) {
  std::vector<std::promise<std::string>> created(4);
  std::vector<std::future<std::string>> answers;
  for (auto& p : created)
    answers.push_back(p.get_future());
  {
    gateway::bridge_batch batch{*bridge};
    for (std::size_t i = 0; i < created.size(); ++i)
      bridge->create_job(cluster, call("c" + std::to_string(i)),
                         [&created, i](gateway::outcome<std::string> result) {
                           created[i].set_value(result.ok() ? *result.value : "error");
                         });
    // Nothing is sent before the batch ends.
    std::this_thread::sleep_for(50ms);
    CAF_CHECK(seen_now().empty());
  }
  for (std::size_t i = 0; i < answers.size(); ++i) {
    CAF_REQUIRE(ready(answers[i]));
    auto id = answers[i].get();
    CAF_CHECK_EQUAL(id, "job-c" + std::to_string(i));
  }
  auto requests = seen_now();
  CAF_REQUIRE_EQUAL(requests.size(), 4u);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto expected = "create c" + std::to_string(i);
    CAF_CHECK_EQUAL(requests[i].what, expected);
    CAF_CHECK_EQUAL(requests[i].sender, requests.front().sender);
  }
}

CAF_TEST(a long batch goes out in pieces of sixteen as it is made) {
  constexpr std::size_t n = 20;
  std::vector<std::promise<std::string>> created(n);
  std::vector<std::future<std::string>> answers;
  for (auto& p : created)
    answers.push_back(p.get_future());
  {
    gateway::bridge_batch batch{*bridge};
    for (std::size_t i = 0; i < n; ++i)
      bridge->create_job(cluster, call("l" + std::to_string(i)),
                         [&created, i](gateway::outcome<std::string> result) {
                           created[i].set_value(result.ok() ? *result.value : "error");
                         });
    // The first sixteen do not wait for the batch's end: they are answered before it.
    CAF_REQUIRE(ready(answers.front()));
    CAF_REQUIRE(ready(answers[15]));
    auto early = seen_now().size();
    CAF_CHECK_EQUAL(early, 16u);
  }
  for (auto& answer : answers)
    CAF_REQUIRE(ready(answer));
  auto requests = seen_now();
  CAF_REQUIRE_EQUAL(requests.size(), n);
  for (std::size_t i = 0; i < n; ++i) {
    auto expected = "create l" + std::to_string(i);
    CAF_CHECK_EQUAL(requests[i].what, expected);
  }
  // Each piece is one message to one bridge actor.
  for (std::size_t i = 1; i < 16; ++i)
    CAF_CHECK_EQUAL(requests[i].sender, requests.front().sender);
  for (std::size_t i = 17; i < n; ++i)
    CAF_CHECK_EQUAL(requests[i].sender, requests[16].sender);
}

CAF_TEST(requests made outside a batch go out at once) {
  std::promise<std::string> created;
  auto answer = created.get_future();
  bridge->create_job(cluster, call("solo"), [&created](gateway::outcome<std::string> r) {
    created.set_value(r.ok() ? *r.value : "error");
  });
  CAF_REQUIRE(ready(answer));
  auto id = answer.get();
  CAF_CHECK_EQUAL(id, "job-solo");
}

CAF_TEST(a wait made from a create answer runs in the bridge actor that got it) {
  std::promise<std::string> waited;
  auto answer = waited.get_future();
  auto* b = bridge.get();
  auto ref = cluster;
  bridge->create_job(
      cluster, call("w"), [b, ref, &waited](gateway::outcome<std::string> created) {
        status_request wait{{*created.value}, 1000, true};
        b->posted_results(
            ref, std::move(wait),
            [&waited](gateway::outcome<std::vector<job_status_row>> rows) {
              waited.set_value(rows.ok() ? rows.value->front().id : "error");
            });
      });
  CAF_REQUIRE(ready(answer));
  auto id = answer.get();
  CAF_CHECK_EQUAL(id, "job-w");
  auto requests = seen_now();
  CAF_REQUIRE_EQUAL(requests.size(), 2u);
  CAF_CHECK_EQUAL(requests[0].what, "create w");
  CAF_CHECK_EQUAL(requests[1].what, "wait job-w");
  // Not handed to the next bridge actor by a message of its own.
  CAF_CHECK_EQUAL(requests[1].sender, requests[0].sender);
}

CAF_TEST_FIXTURE_SCOPE_END()
