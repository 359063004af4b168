#include "cluster_fixture.hpp"

namespace diffplane::testing {

cluster_fixture::cluster_fixture() {
  options.machine_stall = std::chrono::seconds{10};
  options.result_linger = std::chrono::seconds{5};
  // Wall time moves with the deterministic clock, so tests can age cache entries.
  options.wall_clock = [this] {
    return wall_clock_start + std::chrono::duration_cast<std::chrono::milliseconds>(
                                  sched.clock().now().time_since_epoch())
                                  .count();
  };
  start_cluster();
}

cluster_fixture::~cluster_fixture() {
  caf::anon_send_exit(cluster, caf::exit_reason::kill);
  run();
}

void cluster_fixture::start_cluster(bool adopt) {
  store->clusters.try_emplace(info.id, info);
  cluster = spawn_cluster(
      self.ptr(), cluster_context{info, db, db, caf::actor_cast<cluster_parent>(self),
                                  options, parked, adopt});
  run();
  bool ready = false;
  self->receive([&](cluster_ready_atom, const std::string& id) { ready = id == info.id; },
                caf::after(std::chrono::seconds{0}) >> [] {});
  CAF_REQUIRE(ready);
}

void cluster_fixture::restart_cluster() {
  caf::anon_send_exit(cluster, caf::exit_reason::kill);
  run();
  self->receive([](caf::down_msg&) {}, caf::after(std::chrono::seconds{0}) >> [] {});
  start_cluster();
}

void cluster_fixture::hand_over_cluster() {
  caf::anon_send_exit(cluster, caf::exit_reason::kill);
  run();
  self->receive([](caf::down_msg&) {}, caf::after(std::chrono::seconds{0}) >> [] {});
  start_cluster(true);
}

std::string cluster_fixture::create(const std::string& fn, std::int32_t retries,
                                    std::int32_t timeout_seconds) {
  create_job_request request;
  request.service = "svc";
  request.target_fn = fn;
  request.target_args = "YXJncw==";
  request.retry_count_on_stall = retries;
  request.timeout_seconds = timeout_seconds;
  return ask<std::string>(request);
}

create_job_request cluster_fixture::create_request(const std::string& execution_id) {
  create_job_request request;
  request.service = "svc";
  request.target_fn = "f";
  request.target_args = "YXJncw==";
  request.execution_id = execution_id;
  return request;
}

jobs_request cluster_fixture::poll(const std::string& machine, std::int32_t limit) {
  jobs_request request;
  request.service = "svc";
  request.limit = limit;
  request.ttl_ms = 5000;
  request.machine_id = machine;
  return request;
}

job_result_post cluster_fixture::result(const std::string& id, const std::string& machine,
                                        const std::string& value, std::int32_t attempt) {
  job_result_post post;
  post.attempt = attempt;
  post.job_id = id;
  post.machine_id = machine;
  post.result = value;
  post.type = result_kind::resolution;
  post.function_execution_time_ms = 3;
  return post;
}

std::vector<const event_record*>
cluster_fixture::events_of(const std::string& type) const {
  std::vector<const event_record*> found;
  for (const auto& e : store->events)
    if (e.type == type)
      found.push_back(&e);
  return found;
}

} // namespace diffplane::testing
