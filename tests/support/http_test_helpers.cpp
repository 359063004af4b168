#include "http_test_helpers.hpp"

#include "test_database.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace diffplane::testing {

std::vector<std::string> server_args(const std::string& database_url,
                                     std::vector<std::string> extra) {
  std::vector<std::string> args{"--database-url", database_url, "--management-secret",
                                test_management_secret};
  // An option given twice is an error: `extra` may choose another level. Logs kept for
  // a failure's analysis (server_process.cpp) say more.
  if (std::find(extra.begin(), extra.end(), "--log-level") == extra.end())
    args.insert(args.end(),
                {"--log-level", std::getenv("DIFFPLANE_TEST_KEEP_LOGS") ? "info" : "warn"});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

server_fixture::server_fixture(std::vector<std::string> extra)
    : server(server_args(database_url, std::move(extra))) {}

cli::http_reply
server_fixture::call(const std::string& method, const std::string& target,
                     const std::string& secret, const std::string& body,
                     std::vector<std::pair<std::string, std::string>> headers) {
  if (!secret.empty())
    headers.emplace_back("Authorization", "Basic " + secret);
  return server.client().request(method, target, body, headers);
}

cli::http_reply server_fixture::manage(const std::string& method,
                                       const std::string& target,
                                       const std::string& body) {
  return call(method, target, test_management_secret, body);
}

nlohmann::json server_fixture::cluster_with(const std::string& description) {
  auto reply = manage("GET", "/clusters");
  if (reply.status != 200)
    throw std::runtime_error("GET /clusters answered " + std::to_string(reply.status));
  for (const auto& c : parse_json(reply.body))
    if (c["description"] == description)
      return c;
  throw std::runtime_error("no cluster described '" + description + "'");
}

std::string server_fixture::create_cluster(const std::string& description) {
  return create_cluster_on(server, description);
}

std::string create_cluster_on(server_process& server, const std::string& description) {
  auto client = server.client();
  std::vector<std::pair<std::string, std::string>> auth{
      {"Authorization", "Basic " + test_management_secret}};
  auto reply = client.request("POST", "/clusters",
                              nlohmann::json{{"description", description}}.dump(), auth);
  if (reply.status != 204)
    throw std::runtime_error("POST /clusters answered " + std::to_string(reply.status));
  for (const auto& c : parse_json(client.request("GET", "/clusters", {}, auth).body))
    if (c["description"] == description)
      return c["apiSecret"].get<std::string>();
  throw std::runtime_error("no cluster described '" + description + "'");
}

nlohmann::json parse_json(const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded())
    throw std::runtime_error("not JSON: " + body);
  return json;
}

std::string json_field(const std::string& body, const char* key) {
  auto json = parse_json(body);
  if (!json.is_object() || !json.contains(key))
    return "null";
  const auto& value = json[key];
  return value.is_string() ? value.get<std::string>() : value.dump();
}

} // namespace diffplane::testing
