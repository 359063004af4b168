#pragma once

#include "cli/http_client.hpp"

#include <caf/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace diffplane::testing {

/// Answers GET `target` with the suite's server and secret.
using resource_getter = std::function<cli::http_reply(const std::string& target)>;

/// Polls GET /resources/`kind`/`id` until the resource is in `state` and returns it; a
/// 404 is a resource not informed yet (an informer's resources are informed after its
/// job's result, and a work's result is applied after its job's). Fails the test when
/// `within` passes first.
inline nlohmann::json
wait_for_resource_state(const resource_getter& get, const std::string& kind,
                        const std::string& id, const std::string& state,
                        std::chrono::milliseconds within = std::chrono::seconds{10}) {
  auto deadline = std::chrono::steady_clock::now() + within;
  nlohmann::json r;
  while (std::chrono::steady_clock::now() < deadline) {
    auto reply = get("/resources/" + kind + "/" + id);
    CAF_REQUIRE(reply.status == 200u || reply.status == 404u);
    r = reply.status == 200u ? nlohmann::json::parse(reply.body)
                             : nlohmann::json{{"state", "absent"}};
    if (r["state"] == state)
      return r;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  CAF_FAIL("resource " << kind << "/" << id << " stayed " << r["state"] << ", not "
                       << state);
  return r;
}

} // namespace diffplane::testing
