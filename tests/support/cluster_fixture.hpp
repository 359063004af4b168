#pragma once

#include "actor_fixture.hpp"

#include "actors/cluster_actor.hpp"

namespace diffplane::testing {

/// One cluster actor over the in-memory store, driven by the test's scoped actor.
struct cluster_fixture : actor_fixture {
  cluster_record info{"c1", "sk_test", "", 1, false, false};
  /// Wall time when the deterministic clock reads zero (options.wall_clock).
  timestamp_ms wall_clock_start = 1'800'000'000'000;
  domain_options options;
  parked_counter parked = std::make_shared<std::atomic<std::size_t>>(0);
  cluster_actor cluster;

  cluster_fixture();
  /// Stops the cluster first: its periodic sweep would keep the DSL's final run() busy.
  ~cluster_fixture();

  /// Spawns the cluster (again), letting it load from the store; `adopt`: as the node
  /// that took its lease over from a hand-off (cluster_context::adopt_running_attempts).
  void start_cluster(bool adopt = false);

  /// Kills the cluster and starts it again from the store, like a node restart.
  void restart_cluster();

  /// Kills the cluster and starts it again from the store like the node that its
  /// previous owner handed it to.
  void hand_over_cluster();

  /// Sends `message` and returns the answer once all actors are idle.
  template <class T, class Message> T ask(Message message) {
    auto response = self->request(cluster, caf::infinite, std::move(message));
    run();
    T out{};
    response.receive(
        [&](T& value) { out = std::move(value); },
        [&](caf::error& err) { CAF_FAIL("unexpected error: " << sys.render(err)); });
    return out;
  }

  /// Sends `message` and returns the error it is answered with.
  template <class T, class Message> caf::error ask_error(Message message) {
    caf::error out;
    auto response = self->request(cluster, caf::infinite, std::move(message));
    run();
    response.receive([&](T&) { CAF_FAIL("expected an error"); },
                     [&](caf::error& err) { out = err; });
    return out;
  }

  std::string create(const std::string& fn, std::int32_t retries = 1,
                     std::int32_t timeout_seconds = 300);
  /// A create of `svc.f` with this execution id (none: a generated id).
  static create_job_request create_request(const std::string& execution_id = {});
  jobs_request poll(const std::string& machine, std::int32_t limit = 10);
  /// The activity rows of `type` ("jobStalled", ...) the store got, oldest first.
  std::vector<const event_record*> events_of(const std::string& type) const;
  /// A result of `attempt` of job `id` from `machine`.
  job_result_post result(const std::string& id, const std::string& machine,
                         const std::string& value = "cmVzdWx0", std::int32_t attempt = 1);
};

} // namespace diffplane::testing
