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

  /// The status column of job `id`, read on a connection of the test's own.
  std::string status_in_database(const std::string& id) {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    return txn.exec_params("SELECT status FROM jobs WHERE id = $1", id)[0][0]
        .as<std::string>();
  }
};

} // namespace diffplane::testing
