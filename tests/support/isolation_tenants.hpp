#pragma once

#include "http_test_helpers.hpp"

#include <string>
#include <vector>

// Two clusters with jobs in every state, for the tenant isolation tests: each request
// made with one tenant's secret (or none) on the other's ids must learn nothing of it.
namespace diffplane::testing {

/// A cluster and what it holds; every string that only it may see is in `private_text`.
struct tenant {
  std::string name;
  std::string id;
  std::string secret;
  std::string machine;
  /// A service only this tenant uses; "svc" is used by both.
  std::string service;
  std::string done_job;
  std::string running_job;
  std::string pending_job;
  std::string args_marker;
  std::string result_marker;
  std::string pending_marker;
  std::string tag_marker;

  std::vector<std::string> job_ids() const {
    return {done_job, running_job, pending_job};
  }
  /// The secret, the payloads and the machine: never in an answer to anyone else.
  std::vector<std::string> private_text() const;
};

/// The service both tenants use, and the cache key both use on it.
inline const std::string shared_service = "svc";
inline const std::string shared_cache_key = "shared-key";

/// Random lower-case hex, `length` characters.
std::string random_hex(std::size_t length);

/// Creates a cluster and gives it a finished job (on the shared service, cached under the
/// shared key), a running job and a pending one (on its own service), a machine and
/// client events, all carrying random markers.
tenant make_tenant(server_fixture& fixture, const std::string& name);

/// The request body of a job create.
nlohmann::json job_body(const std::string& service, const std::string& args,
                        nlohmann::json call_config = nullptr);

} // namespace diffplane::testing
