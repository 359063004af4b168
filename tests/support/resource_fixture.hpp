#pragma once

#include "cluster_fixture.hpp"

#include "actors/resource_lifecycle.hpp"

#include <string>
#include <vector>

namespace diffplane::testing {

/// A cluster with a controller of the kind `user`: its polls and its results.
struct resource_fixture : cluster_fixture {
  /// A controller's poll of the user kind.
  std::vector<dispatched_job> take_work(const std::string& machine = "m1") {
    jobs_request request;
    request.service = "resources.user";
    request.limit = 10;
    request.ttl_ms = 0;
    request.machine_id = machine;
    auto response = self->request(cluster, caf::infinite, request);
    run();
    // An empty poll parks for its ttl of 0 ms: fire that timer alone.
    advance_time(std::chrono::milliseconds{0});
    std::vector<dispatched_job> out;
    response.receive([&](std::vector<dispatched_job>& jobs) { out = std::move(jobs); },
                     [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  }

  /// The controller's result of `job`: `json` resolved (or as `type`).
  bool finish(const dispatched_job& job, const std::string& json,
              result_kind type = result_kind::resolution) {
    auto post = result(job.id, "m1", resources::encode_payload(json), job.attempt);
    post.type = type;
    return ask<bool>(post);
  }
};

} // namespace diffplane::testing
