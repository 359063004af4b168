#pragma once

#include "actors/message_types.hpp"
#include "persistence/migrations.hpp"
#include "persistence/persistence_actor.hpp"
#include "persistence/result_lane.hpp"
#include "test_database.hpp"

#include <caf/test/dsl.hpp>
#include <pqxx/pqxx>

namespace diffplane::testing {

struct writer_test_config : caf::actor_system_config {
  writer_test_config() { register_message_types(*this); }
};

/// The real writer actor on a fresh, migrated database (with the node's result lane when
/// asked, result_lane.hpp); its timers run on the deterministic clock, its thread of its
/// own.
struct writer_fixture : test_coordinator_fixture<writer_test_config> {
  std::string url = create_test_database();
  persistence_actor writer;
  caf::scoped_actor self{sys};

  explicit writer_fixture(std::chrono::milliseconds dispatch_write_delay,
                          bool result_lane = false) {
    pqxx::connection connection{url};
    persistence::apply_migrations(connection);
    persistence_options options;
    options.database_url = url;
    options.dispatch_write_delay = dispatch_write_delay;
    options.name = "writer";
    writer = result_lane ? spawn_writer(sys, options) : spawn_persistence(sys, options);
  }

  // The actor system waits for the writer's thread to end before it goes.
  ~writer_fixture() { self->send_exit(writer, caf::exit_reason::user_shutdown); }

  static job_record job(const std::string& id) {
    job_record job;
    job.cluster_id = "c1";
    job.id = id;
    job.service = "svc";
    job.target_fn = "fn";
    job.revision = 1;
    return job;
  }

  /// Inserts job `id`, checking that it was new.
  void insert(const std::string& id) {
    self->request(writer, caf::infinite, job(id))
        .receive([](bool inserted) { CAF_CHECK(inserted); },
                 [](caf::error& e) { CAF_FAIL("insert failed: " << to_string(e)); });
  }

  /// The write of job `id`'s dispatch (running on machine m1, revision 2).
  static job_state_write dispatch_of(const std::string& id) {
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

  /// Waits for the writer's answer to a state write: true once it was done.
  template <class Handle> static bool answered_done(Handle& request, const char* what) {
    bool done = false;
    request.receive(
        [&](done_atom) { done = true; },
        [what](caf::error& e) { CAF_FAIL(what << " failed: " << to_string(e)); });
    return done;
  }

  /// The status column of job `id`, read on a connection of the test's own.
  std::string status_in_database(const std::string& id) {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    return txn.exec_params("SELECT status FROM jobs WHERE id = $1", id)[0][0]
        .as<std::string>();
  }
};

} // namespace diffplane::testing
