#define CAF_SUITE connection_limits

#include "http_test_helpers.hpp"
#include "metrics_scrape.hpp"
#include "native_frames.hpp"
#include "raw_connection.hpp"

#include <caf/test/unit_test.hpp>

#include <memory>
#include <thread>
#include <vector>

using namespace diffplane;
using namespace diffplane::testing;
using namespace std::chrono_literals;

namespace {

std::uint16_t port_of(const std::string& endpoint) {
  return static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

double gateway_metric(const server_process& server, const std::string& sample) {
  return scrape_metric(server, sample).value_or(-1);
}

const std::string open_gauge = R"(diffplane_http_connections_open{listener="gateway"})";
const std::string refused_per_address =
    R"(diffplane_http_connections_refused_total{listener="gateway",limit="per_address"})";

} // namespace

CAF_TEST(one address holds at most its connections and others are still served) {
  server_fixture f{
      {"--max-connections-per-address", "3", "--metrics-listen", "127.0.0.1:0"}};
  auto port = port_of(f.server.endpoint());
  std::vector<std::unique_ptr<raw_connection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<raw_connection>(port));
    CAF_REQUIRE_EQUAL(held.back()->get("/live"), 200u);
  }
  CAF_CHECK_EQUAL(gateway_metric(f.server, open_gauge), 3.0);

  raw_connection over{port};
  auto refusal = over.read_to_end(3s);
  CAF_MESSAGE("refusal: " << refusal);
  CAF_CHECK_EQUAL(status_of(refusal), 429u);
  CAF_CHECK(contains(refusal, "Connection: close"));
  CAF_CHECK(contains(refusal, "too many connections from this address"));
  CAF_CHECK_EQUAL(gateway_metric(f.server, refused_per_address), 1.0);

  // Another loopback address has a count of its own.
  raw_connection other{port, "127.0.0.2"};
  CAF_CHECK_EQUAL(other.get("/live"), 200u);
  // The connections held all along are unaffected.
  for (auto& connection : held)
    CAF_CHECK_EQUAL(connection->get("/live"), 200u);

  // Closing connections gives their places back: new ones are accepted.
  held.clear();
  auto until = std::chrono::steady_clock::now() + 5s;
  while (gateway_metric(f.server, open_gauge) > 1.0 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  CAF_CHECK_EQUAL(gateway_metric(f.server, open_gauge), 1.0);
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<raw_connection>(port));
    CAF_CHECK_EQUAL(held.back()->get("/live"), 200u);
  }
  CAF_CHECK_EQUAL(gateway_metric(f.server, refused_per_address), 1.0);
}

CAF_TEST(native and HTTP connections of one address share its limit) {
  server_fixture f{{"--max-connections-per-address", "2", "--native-listen",
                    "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"}};
  auto http_port = port_of(f.server.endpoint());
  const std::string native_open = R"(diffplane_http_connections_open{listener="native"})";
  const std::string native_refused =
      R"(diffplane_http_connections_refused_total{listener="native",limit="per_address"})";

  raw_connection http{http_port};
  CAF_REQUIRE_EQUAL(http.get("/live"), 200u);
  auto native = std::make_unique<raw_connection>(f.server.native_port());
  auto until = std::chrono::steady_clock::now() + 5s;
  while (gateway_metric(f.server, native_open) < 1.0 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  CAF_REQUIRE_EQUAL(gateway_metric(f.server, native_open), 1.0);

  // The address holds two: a third native connection is told why and closed, before
  // it sent anything, and so is a second HTTP one.
  raw_connection over_native{f.server.native_port()};
  auto frames = frames_of(over_native.read_to_end(3s));
  CAF_REQUIRE_EQUAL(frames.size(), 1u);
  CAF_REQUIRE(protocol::type_of(frames[0].get()) == protocol::frame_type::error);
  CAF_CHECK_EQUAL(protocol::decode<protocol::error>(frames[0].get()).code,
                  "too_many_connections");
  CAF_CHECK_EQUAL(gateway_metric(f.server, native_refused), 1.0);
  raw_connection over_http{http_port};
  CAF_CHECK_EQUAL(status_of(over_http.read_to_end(3s)), 429u);

  // The native connection's place goes back when it ends: HTTP takes it.
  native.reset();
  until = std::chrono::steady_clock::now() + 5s;
  while (gateway_metric(f.server, native_open) > 0.0 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  CAF_CHECK_EQUAL(gateway_metric(f.server, native_open), 0.0);
  raw_connection again{http_port};
  CAF_CHECK_EQUAL(again.get("/live"), 200u);
}

CAF_TEST(a create past the byte budget of its cluster is answered 429 naming it) {
  server_fixture f{
      {"--max-live-bytes-per-cluster", "100", "--metrics-listen", "127.0.0.1:0"}};
  auto secret = f.create_cluster("bounded");
  std::string args;
  for (int i = 0; i < 15; ++i)
    args += "YWFh"; // 60 bytes of base64 text, counted as sent
  auto body = R"({"service":"svc","targetFn":"f","targetArgs":")" + args + R"("})";
  auto first = f.call("POST", "/jobs", secret, body);
  CAF_REQUIRE_EQUAL(first.status, 201u);
  auto over = f.call("POST", "/jobs", secret, body);
  CAF_MESSAGE("refusal: " << over.body);
  CAF_CHECK_EQUAL(over.status, 429u);
  CAF_CHECK_EQUAL(json_field(over.body, "error"), "too_many_requests");
  auto message = parse_json(over.body).value("message", std::string{});
  CAF_CHECK(contains(message, "holds 60 bytes of job arguments and results"));
  CAF_CHECK(contains(message, "--max-live-bytes-per-cluster"));
  // Another cluster has a budget of its own.
  auto other = f.create_cluster("other");
  CAF_CHECK_EQUAL(f.call("POST", "/jobs", other, body).status, 201u);
  // The held bytes show in the gauge once the clusters swept (every second).
  auto until = std::chrono::steady_clock::now() + 5s;
  while (gateway_metric(f.server, "diffplane_live_bytes") != 120.0 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  CAF_CHECK_EQUAL(gateway_metric(f.server, "diffplane_live_bytes"), 120.0);
}
