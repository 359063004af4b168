#include "bench/loadgen/setup_calls.hpp"

#include "bench/loadgen/json_fields.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

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
  const nlohmann::json description = {{"description", cluster_description}};
  const auto created =
      blocking_exchange(address, {verb::post, "/clusters", description.dump(), {}});
  if (created.error || created.status != 204)
    throw setup_error("POST /clusters failed: " + describe(created));

  const auto listed = blocking_exchange(address, {verb::get, "/clusters", {}, {}});
  if (listed.error || listed.status != 200)
    throw setup_error("GET /clusters failed: " + describe(listed));
  const auto clusters = nlohmann::json::parse(listed.body, nullptr, false);
  if (!clusters.is_array())
    throw setup_error("GET /clusters did not answer an array: " +
                      listed.body.substr(0, 200));

  // The newest "bench" cluster is the one just created; ISO-8601 timestamps of one
  // server sort as strings.
  std::string newest_at;
  std::string secret;
  for (const auto& cluster : clusters) {
    if (string_field(cluster, "description") != cluster_description)
      continue;
    const auto created_at = string_field(cluster, "createdAt");
    if (secret.empty() || created_at > newest_at) {
      newest_at = created_at;
      secret = string_field(cluster, "apiSecret");
    }
  }
  if (secret.empty())
    throw setup_error(
        "GET /clusters lists no cluster described \"bench\" with an apiSecret");
  return secret;
}

} // namespace diffplane::bench
