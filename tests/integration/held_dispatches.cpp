#define CAF_SUITE held_dispatches

#include "actors/message_types.hpp"
#include "persistence/migrations.hpp"
#include "persistence/persistence_actor.hpp"
#include "test_database.hpp"

#include <caf/test/dsl.hpp>
#include <pqxx/pqxx>

// The real writer on a real database, its timer on the deterministic clock: the writer
// holds a job's dispatch back for a moment and keeps one timer for what it holds.

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

struct test_config : caf::actor_system_config {
  test_config() { register_message_types(*this); }
};

constexpr auto hold = 500ms;

struct fixture : test_coordinator_fixture<test_config> {
  std::string url = testing::create_test_database();
  persistence_actor writer;
  caf::scoped_actor self{sys};

  fixture() {
    pqxx::connection connection{url};
    persistence::apply_migrations(connection);
    persistence_options options;
    options.database_url = url;
    options.dispatch_write_delay = hold;
    options.name = "writer";
    writer = spawn_persistence(sys, options);
  }

  // The actor system waits for the writer's thread to end before it goes.
  ~fixture() { self->send_exit(writer, caf::exit_reason::user_shutdown); }

  void insert(const std::string& id) {
    job_record job;
    job.cluster_id = "c1";
    job.id = id;
    job.service = "svc";
    job.target_fn = "fn";
    job.revision = 1;
    self->request(writer, caf::infinite, job)
        .receive([](bool inserted) { CAF_CHECK(inserted); },
                 [](caf::error& e) { CAF_FAIL("insert failed: " << to_string(e)); });
  }

  /// Waits for the writer's answer to a state write: true once it was done.
  template <class Handle> static bool answered_done(Handle& request, const char* what) {
    bool done = false;
    request.receive(
        [&](done_atom) { done = true; },
        [what](caf::error& e) { CAF_FAIL(what << " failed: " << to_string(e)); });
    return done;
  }

  std::size_t pending_timers() { return sched.clock().schedule().size(); }

  std::string status_in_database(const std::string& id) {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    return txn.exec_params("SELECT status FROM jobs WHERE id = $1", id)[0][0]
        .as<std::string>();
  }
};

job_state_write dispatch_of(const std::string& id) {
  job_state_write w;
  w.cluster_id = "c1";
  w.id = id;
  w.status = job_status::running;
  w.attempts_used = 1;
  w.executing_machine_id = "m1";
  w.last_dispatched_at = 1700000000000;
  w.revision = 2;
  return w;
}

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
