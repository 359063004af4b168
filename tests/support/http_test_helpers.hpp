#pragma once

#include "server_process.hpp"
#include "test_database.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace diffplane::testing {

/// A server of its own on a fresh database, and shortcuts for its HTTP API.
struct server_fixture {
  std::string database_url = create_test_database();
  server_process server;

  explicit server_fixture(std::vector<std::string> extra = {});

  cli::http_reply call(const std::string& method, const std::string& target,
                       const std::string& secret, const std::string& body = {},
                       std::vector<std::pair<std::string, std::string>> headers = {});
  cli::http_reply manage(const std::string& method, const std::string& target,
                         const std::string& body = {});
  /// Creates a cluster and returns its API secret.
  std::string create_cluster(const std::string& description);
  /// The cluster entry of GET /clusters with that description.
  nlohmann::json cluster_with(const std::string& description);
};

/// Creates a cluster on `server` and returns its API secret.
std::string create_cluster_on(server_process& server, const std::string& description);

std::vector<std::string> server_args(const std::string& database_url,
                                     std::vector<std::string> extra = {});

nlohmann::json parse_json(const std::string& body);

/// A top-level field of a JSON body as text ("null" when absent), easy to compare.
std::string json_field(const std::string& body, const char* key);

} // namespace diffplane::testing
