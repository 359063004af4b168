#include "bench/loadgen/setup_calls.hpp"

#include "bench/loadgen/json_fields.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

namespace diffplane::bench {

namespace asio = boost::asio;
using boost::beast::http::verb;

namespace {

constexpr std::chrono::seconds setup_timeout{10};
constexpr const char* cluster_description = "bench";

task<void> exchange_into(http_connection& connection, http_call call,
                         http_answer& answer) {
  answer = co_await connection.exchange(std::move(call), setup_timeout);
}

std::string describe(const http_answer& answer) {
  if (answer.error)
    return answer.error.message();
  return "status " + std::to_string(answer.status) + " " + answer.body.substr(0, 200);
}

/// The API secrets of every cluster described "bench", in the order GET /clusters lists.
std::vector<std::string> bench_cluster_secrets(const server_address& address) {
  const auto listed = blocking_exchange(address, {verb::get, "/clusters", {}, {}});
  if (listed.error || listed.status != 200)
    throw setup_error("GET /clusters failed: " + describe(listed));
  const auto clusters = nlohmann::json::parse(listed.body, nullptr, false);
  if (!clusters.is_array())
    throw setup_error("GET /clusters did not answer an array: " +
                      listed.body.substr(0, 200));
  std::vector<std::string> secrets;
  for (const auto& cluster : clusters)
    if (string_field(cluster, "description") == cluster_description) {
      auto secret = string_field(cluster, "apiSecret");
      if (!secret.empty())
        secrets.push_back(std::move(secret));
    }
  return secrets;
}

} // namespace

http_answer blocking_exchange(const server_address& address, http_call call) {
  asio::io_context io;
  executor strand = asio::make_strand(io);
  http_connection connection{strand, address};
  http_answer answer;
  asio::co_spawn(strand, exchange_into(connection, std::move(call), answer),
                 asio::detached);
  io.run();
  return answer;
}

void check_live(const server_address& address, const std::string& endpoint) {
  const auto answer = blocking_exchange(address, {verb::get, "/live", {}, {}});
  if (answer.error || answer.status != 200)
    throw setup_error("server at " + endpoint + " is not live: " + describe(answer));
}

std::string create_bench_cluster(const server_address& address) {
  return create_bench_clusters(address, 1).front();
}

std::vector<std::string> create_bench_clusters(const server_address& address, int count) {
  // Told apart by their secrets rather than by createdAt: clusters created within one
  // millisecond tie on it.
  const auto before = bench_cluster_secrets(address);
  const nlohmann::json description = {{"description", cluster_description}};
  for (int i = 0; i < count; ++i) {
    const auto created =
        blocking_exchange(address, {verb::post, "/clusters", description.dump(), {}});
    if (created.error || created.status != 204)
      throw setup_error("POST /clusters failed: " + describe(created));
  }
  std::vector<std::string> secrets;
  for (auto& secret : bench_cluster_secrets(address))
    if (std::find(before.begin(), before.end(), secret) == before.end())
      secrets.push_back(std::move(secret));
  if (secrets.size() != static_cast<std::size_t>(count))
    throw setup_error("created " + std::to_string(count) +
                      " clusters, but GET /clusters lists " +
                      std::to_string(secrets.size()) +
                      " new ones described \"bench\" with an apiSecret");
  return secrets;
}

} // namespace diffplane::bench
