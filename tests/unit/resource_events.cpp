#define CAF_SUITE resource_events

#include "resource_fixture.hpp"

#include "actors/resource_events.hpp"
#include "actors/resource_lifecycle.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

/// The server's default backoff: a first retry after 1 s.
struct fixture : testing::resource_fixture {
  /// Informs `user/<id>` of `object_json` with up to `max_attempts` attempts.
  void inform(const std::string& id, const std::string& object_json,
              std::int32_t max_attempts = 0) {
    resource_input input;
    input.kind = "user";
    input.id = id;
    input.object_json = object_json;
    input.max_attempts = max_attempts;
    ask<std::vector<inform_result>>(resource_inform_request{{input}});
  }

  static resource_events_request events_after(std::int64_t after, std::int32_t ttl_ms = 0,
                                              std::int32_t limit = 100) {
    resource_events_request request;
    request.after = after;
    request.ttl_ms = ttl_ms;
    request.limit = limit;
    return request;
  }

  /// "type:id" of each stored event, in the order of their numbers.
  std::vector<std::string> stored_types() const {
    std::vector<std::string> out;
    std::int64_t last = 0;
    for (const auto& e : store->resource_events) {
      CAF_CHECK_GREATER(e.seq, last);
      last = e.seq;
      out.push_back(e.type + ":" + e.id);
    }
    return out;
  }

  /// Whether an answer is waiting in the test's mailbox.
  bool answered() { return !self->mailbox().empty(); }

  template <class Response> resource_events_page page_of(Response& response) {
    resource_events_page out;
    response.receive([&](resource_events_page& page) { out = std::move(page); },
                     [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  }
};

const std::string synced = "{\"action\":\"synced\"}";

std::vector<std::string> types_of(const resource_events_page& page) {
  std::vector<std::string> out;
  for (const auto& e : page.events)
    out.push_back(e.type + ":" + e.id);
  return out;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(resource_events_tests, fixture)

CAF_TEST(each state change is one event committed with it in order) {
  inform("42", "{\"n\":1}");
  // Nothing changes state: no event.
  inform("42", "{\"n\":2}");
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  finish(work[0], synced);
  inform("42", "{\"n\":2}"); // unchanged
  using strings = std::vector<std::string>;
  CAF_CHECK_EQUAL(stored_types(), (strings{"scheduled:42", "pending:42", "synced:42"}));
  const auto& events = store->resource_events;
  CAF_CHECK_EQUAL(events[0].previous_state, "");
  CAF_CHECK_EQUAL(events[0].state, "scheduled");
  CAF_CHECK_EQUAL(events[0].attempt, 1);
  CAF_CHECK_EQUAL(events[0].job_id, work[0].id);
  CAF_CHECK_EQUAL(events[1].previous_state, "scheduled");
  CAF_CHECK_EQUAL(events[2].previous_state, "pending");
  CAF_CHECK_EQUAL(events[2].job_id, "");
  CAF_CHECK_EQUAL(events[2].at, store->resource("c1", "user", "42")->updated_at);
  // The route answers the same, from memory, with the cursor of the last.
  auto page = ask<resource_events_page>(events_after(0));
  CAF_CHECK_EQUAL(page.events, events);
  CAF_CHECK_EQUAL(page.cursor, events.back().seq);
  CAF_CHECK_EQUAL(store->resource_event_reads, 0u);
}

CAF_TEST(failed attempts carry their error and end in degraded) {
  inform("7", "{}", 2);
  finish(take_work().at(0), "{\"message\":\"upstream 503\"}", result_kind::rejection);
  advance_time(1s);
  finish(take_work().at(0), "{\"message\":\"still down\"}", result_kind::rejection);
  using strings = std::vector<std::string>;
  CAF_CHECK_EQUAL(stored_types(), (strings{"scheduled:7", "pending:7", "failed:7",
                                           "scheduled:7", "pending:7", "degraded:7"}));
  const auto& events = store->resource_events;
  CAF_CHECK_EQUAL(events[2].message, "upstream 503");
  CAF_CHECK_EQUAL(events[2].attempt, 1);
  CAF_CHECK_EQUAL(events[3].attempt, 2);
  CAF_CHECK_EQUAL(events[5].message, "still down");
  CAF_CHECK_EQUAL(events[5].previous_state, "pending");
  // A deleted resource is an event too.
  inform("8", "{}");
  finish(take_work().at(0), "{\"action\":\"delete\"}");
  auto types = stored_types();
  CAF_CHECK_EQUAL(types.back(), "deleted:8");
}

CAF_TEST(a parked events poll is answered by a commit and not before) {
  inform("1", "{}");
  auto cursor = ask<resource_events_page>(events_after(0)).cursor;
  auto response = self->request(cluster, caf::infinite, events_after(cursor, 10000));
  run();
  CAF_CHECK(!answered());
  CAF_CHECK_EQUAL(parked->load(), 1u);
  // An inform that changes no state commits no event: still parked.
  inform("1", "{\"again\":true}");
  advance_time(5s);
  CAF_CHECK(!answered());
  inform("2", "{}");
  CAF_REQUIRE(answered());
  auto page = page_of(response);
  CAF_CHECK_EQUAL(types_of(page), (std::vector<std::string>{"scheduled:2"}));
  CAF_CHECK_EQUAL(page.cursor, cursor + 1);
  CAF_CHECK_EQUAL(parked->load(), 0u);
}

CAF_TEST(an events poll with nothing new answers empty with its cursor after its ttl) {
  inform("1", "{}");
  auto response = self->request(cluster, caf::infinite, events_after(1, 2000));
  run();
  advance_time(1999ms);
  CAF_CHECK(!answered());
  advance_time(1ms);
  CAF_REQUIRE(answered());
  auto page = page_of(response);
  CAF_CHECK(page.events.empty());
  CAF_CHECK_EQUAL(page.cursor, 1);
  CAF_CHECK_EQUAL(parked->load(), 0u);
}

CAF_TEST(a cluster moving away answers its parked events polls) {
  auto response = self->request(cluster, caf::infinite, events_after(0, 10000));
  run();
  CAF_CHECK(!answered());
  caf::anon_send(cluster, quiesce_atom::value);
  run();
  CAF_REQUIRE(answered());
  CAF_CHECK(page_of(response).events.empty());
}

CAF_TEST(events older than memory are read from the store in order) {
  options.resources.events_in_memory = 2;
  restart_cluster();
  for (auto id : {"a", "b", "c", "d", "e"})
    inform(id, "{}");
  // Pages of two from the start: the first ones come from the store, the rest from
  // memory, with no event lost or repeated.
  std::vector<std::string> seen;
  std::int64_t cursor = 0;
  for (int i = 0; i < 4; ++i) {
    auto page = ask<resource_events_page>(events_after(cursor, 0, 2));
    for (auto& t : types_of(page))
      seen.push_back(t);
    cursor = page.cursor;
  }
  CAF_CHECK_EQUAL(seen,
                  (std::vector<std::string>{"scheduled:a", "scheduled:b", "scheduled:c",
                                            "scheduled:d", "scheduled:e"}));
  CAF_CHECK_GREATER(store->resource_event_reads, 0u);
  CAF_CHECK_EQUAL(cursor, store->resource_events.back().seq);
}

CAF_TEST(numbering goes on after a restart and skips a failed commit) {
  inform("1", "{}");
  restart_cluster();
  // After a restart memory is empty: the store answers for the older events.
  auto page = ask<resource_events_page>(events_after(0));
  CAF_CHECK_EQUAL(types_of(page), (std::vector<std::string>{"scheduled:1"}));
  store->failing = true;
  resource_input input;
  input.kind = "user";
  input.id = "2";
  input.object_json = "{}";
  ask_error<std::vector<inform_result>>(resource_inform_request{{input}});
  store->failing = false;
  inform("3", "{}");
  const auto& events = store->resource_events;
  CAF_REQUIRE_EQUAL(events.size(), 2u);
  // Number 2 went to the failed commit: never given again.
  CAF_CHECK_EQUAL(events[1].seq, 3);
  auto next = ask<resource_events_page>(events_after(page.cursor));
  CAF_CHECK_EQUAL(types_of(next), (std::vector<std::string>{"scheduled:3"}));
  CAF_CHECK_EQUAL(next.cursor, 3);
}

CAF_TEST(the events of one step are in resource order) {
  resource_input b;
  b.kind = "user";
  b.id = "b";
  b.object_json = "{}";
  auto a = b;
  a.id = "a";
  ask<std::vector<inform_result>>(resource_inform_request{{b, a}});
  CAF_CHECK_EQUAL(stored_types(),
                  (std::vector<std::string>{"scheduled:a", "scheduled:b"}));
}

CAF_TEST_FIXTURE_SCOPE_END()
