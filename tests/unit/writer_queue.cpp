#define CAF_SUITE writer_queue

#include "cluster_fixture.hpp"

#include "persistence/errors.hpp"

using namespace diffplane;

namespace {

using id_response = decltype(std::declval<caf::scoped_actor&>()->request(
    std::declval<cluster_actor&>(), caf::infinite, std::declval<create_job_request>()));

// A database that does not answer: job inserts wait in the in-memory store, unanswered,
// as they would behind a hung writer, until the test lets them commit or fail.
struct fixture : testing::cluster_fixture {
  fixture() { store->hold_job_inserts = true; }

  id_response send_create(const std::string& execution_id = {}) {
    auto response = self->request(cluster, caf::infinite, create_request(execution_id));
    run();
    return response;
  }

  /// The id `response` was answered with, or the name of its error code.
  std::string outcome(id_response& response) {
    std::string out;
    response.receive(
        [&](std::string& id) { out = id; },
        [&](caf::error& err) { out = std::string{to_string(code_of(err))}; });
    return out;
  }

  std::size_t queued() const { return options.writer_queue->load(); }

  void restart_with_limit(std::size_t limit) {
    options.max_writer_queue = limit;
    restart_cluster();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(writer_queue_tests, fixture)

CAF_TEST(a create beyond the writer queue limit is refused at once) {
  restart_with_limit(2);
  auto first = send_create();
  auto second = send_create();
  auto third = send_create();
  // Answered without waiting for the database.
  CAF_CHECK_EQUAL(outcome(third), "overloaded");
  CAF_CHECK_EQUAL(store->job_inserts, 2u);
  CAF_CHECK_EQUAL(queued(), 2u);
  answer_held_writes(true);
  run();
  CAF_CHECK_EQUAL(outcome(first).size(), 32u);
  CAF_CHECK_EQUAL(outcome(second).size(), 32u);
  CAF_CHECK_EQUAL(queued(), 0u);
  // Room again once the queue drained.
  store->hold_job_inserts = false;
  auto fourth = send_create();
  CAF_CHECK_EQUAL(outcome(fourth).size(), 32u);
}

CAF_TEST(failed writes leave the writer queue too) {
  restart_with_limit(1);
  auto first = send_create();
  answer_held_writes(false);
  run();
  CAF_CHECK_EQUAL(outcome(first), "unavailable");
  CAF_CHECK_EQUAL(queued(), 0u);
}

CAF_TEST(a cluster that ends gives its places in the writer queue back) {
  // Killed (a crash, or the node restarting every cluster after a persistence actor
  // died) while its writes wait: their answers never reach it.
  send_create();
  send_create("exec-gone");
  CAF_CHECK_EQUAL(queued(), 2u);
  restart_cluster();
  CAF_CHECK_EQUAL(queued(), 0u);
  // Held promises keep the store's actor alive: answer them (to nobody) before the end.
  answer_held_writes(false);
  run();
}

CAF_TEST(client events beyond the writer queue limit are refused) {
  restart_with_limit(1);
  auto first = send_create();
  auto events = self->request(cluster, caf::infinite, client_events_post{{}});
  run();
  std::string answer;
  events.receive([&](done_atom) { answer = "done"; },
                 [&](caf::error& err) { answer = std::string{to_string(code_of(err))}; });
  CAF_CHECK_EQUAL(answer, "overloaded");
  answer_held_writes(true);
  run();
  CAF_CHECK_EQUAL(outcome(first).size(), 32u);
}

CAF_TEST(a retried execution id joins the create in flight instead of writing again) {
  // The first caller gave up (its HTTP deadline passed) while the insert waited for the
  // database; it retries with the same execution id.
  auto first = send_create("exec-retry");
  auto retry = send_create("exec-retry");
  CAF_CHECK_EQUAL(store->job_inserts, 1u);
  CAF_CHECK_EQUAL(queued(), 1u);
  answer_held_writes(true);
  run();
  CAF_CHECK_EQUAL(outcome(first), "exec-retry");
  CAF_CHECK_EQUAL(outcome(retry), "exec-retry");
  CAF_CHECK_EQUAL(store->jobs.size(), 1u);
  CAF_CHECK_EQUAL(ask<std::vector<dispatched_job>>(poll("m1", 10)).size(), 1u);
}

CAF_TEST(a retry joins even when the writer queue is full) {
  restart_with_limit(1);
  auto first = send_create("exec-full");
  auto retry = send_create("exec-full");
  auto other = send_create("exec-other");
  CAF_CHECK_EQUAL(outcome(other), "overloaded");
  answer_held_writes(true);
  run();
  CAF_CHECK_EQUAL(outcome(first), "exec-full");
  CAF_CHECK_EQUAL(outcome(retry), "exec-full");
  CAF_CHECK_EQUAL(store->job_inserts, 1u);
}

CAF_TEST(a joined create fails with the create it joined and may then retry) {
  auto first = send_create("exec-fail");
  auto retry = send_create("exec-fail");
  answer_held_writes(false);
  run();
  CAF_CHECK_EQUAL(outcome(first), "unavailable");
  CAF_CHECK_EQUAL(outcome(retry), "unavailable");
  auto again = send_create("exec-fail");
  CAF_CHECK_EQUAL(outcome(again), "exec-fail");
  CAF_CHECK_EQUAL(store->jobs.size(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
