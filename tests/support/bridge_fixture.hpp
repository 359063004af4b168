#pragma once

#include "actor_fixture.hpp"

#include "gateway/make_actor_bridge.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace diffplane::testing {

/// What the fake cluster actor of a bridge_fixture saw: a request and the actor that
/// sent it.
struct seen_request {
  std::string what;
  caf::actor_id sender = 0;
};

/// The real actor bridge (two bridge actors) on a real, threaded actor system, in front
/// of a fake cluster actor that notes each request: creates answer "job-<executionId>",
/// result waits the job's success. The bridge's destructor waits for its actors, which
/// the deterministic coordinator would never run.
struct bridge_fixture {
  test_config config;
  std::unique_ptr<caf::actor_system> sys;
  std::mutex mutex;
  std::vector<seen_request> seen;
  caf::actor fake;
  std::unique_ptr<gateway::actor_bridge> bridge;
  gateway::cluster_ref cluster;

  explicit bridge_fixture(std::size_t actor_threads = 2) {
    config.set("scheduler.max-threads", actor_threads);
    sys = std::make_unique<caf::actor_system>(config);
    fake = sys->spawn([this](caf::event_based_actor* self) -> caf::behavior {
      auto note = [this, self](std::string what) {
        std::lock_guard lock{mutex};
        seen.push_back({std::move(what), self->current_sender()->id()});
      };
      return {
          [note](create_job_request& request) -> std::string {
            note("create " + request.execution_id);
            return "job-" + request.execution_id;
          },
          [note](posted_result_atom,
                 status_request& request) -> std::vector<job_status_row> {
            note("wait " + request.ids.front());
            return {job_status_row{request.ids.front(), job_status::success,
                                   result_kind::resolution, ""}};
          },
      };
    });
    // Two bridge actors: requests made one by one go to each in turn.
    bridge = gateway::make_actor_bridge(*sys, caf::actor_cast<node_actor>(fake), 2);
    cluster.actor =
        std::make_shared<const cluster_actor>(caf::actor_cast<cluster_actor>(fake));
  }

  ~bridge_fixture() {
    bridge.reset();
    caf::anon_send_exit(fake, caf::exit_reason::user_shutdown);
  }

  bridge_fixture(const bridge_fixture&) = delete;
  bridge_fixture& operator=(const bridge_fixture&) = delete;

  /// An ephemeral create with the execution id `id`.
  static create_job_request call(const std::string& id) {
    create_job_request request;
    request.service = "svc";
    request.target_fn = "f";
    request.execution_id = id;
    request.durable = false;
    return request;
  }

  std::vector<seen_request> seen_now() {
    std::lock_guard lock{mutex};
    return seen;
  }
};

} // namespace diffplane::testing
