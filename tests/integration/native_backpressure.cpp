#define CAF_SUITE native_backpressure

#include "http_test_helpers.hpp"
#include "metrics_scrape.hpp"
#include "native_frames.hpp"
#include "raw_connection.hpp"

#include <diffplane/client/client.hpp>

#include <caf/test/unit_test.hpp>

#include <set>
#include <thread>

using namespace diffplane;
using namespace diffplane::testing;

// A native client that does not read what it is sent: the server stops reading its
// frames once a little is queued, and closes it when what is queued, unread, passes the
// bound, rather than keep every result of its calls in memory.
namespace {

using clock_type = std::chrono::steady_clock;

/// Bytes of each result: with --body-limit 131072 the largest frame is 135,168 bytes
/// and a connection may have 16 of them queued (2,162,688 bytes), reading pausing at a
/// quarter of that.
constexpr std::size_t result_bytes = 20000;

struct fixture : server_fixture {
  fixture()
      : server_fixture({"--native-listen", "127.0.0.1:0", "--body-limit", "131072",
                        "--log-level", "debug", "--metrics-listen", "127.0.0.1:0"}) {
    worker = client::client::connect(endpoint(), secret);
    worker->serve("svc",
                  {{"big", client::make_handler([](int i) {
                      return std::string(result_bytes, static_cast<char>('a' + i % 26));
                    })}},
                  8);
  }

  std::string secret = create_cluster("backpressure");
  std::shared_ptr<client::client> worker;

  std::string endpoint() const {
    return "127.0.0.1:" + std::to_string(server.native_port());
  }

  /// A raw connection that authenticated, with a small receive buffer so that what it
  /// does not read stays in the server rather than in the kernel.
  std::unique_ptr<raw_connection> raw_caller() {
    auto raw = std::make_unique<raw_connection>(server.native_port(), "127.0.0.1", 4096);
    raw->send(protocol::encode(protocol::hello{protocol::version, secret, "test"}));
    return raw;
  }

  static std::string calls(int first, int count) {
    std::string bytes;
    for (int i = first; i < first + count; ++i)
      bytes += protocol::encode(protocol::call{
          "call-" + std::to_string(i), "svc", "big", client::pack_args(i), {}});
    return bytes;
  }

  double slow_consumers() {
    return scrape_metric(server, "diffplane_native_slow_consumers_total").value_or(0);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(native_backpressure_tests, fixture)

CAF_TEST(a caller that never reads its results is closed once they pass the bound) {
  auto raw = raw_caller();
  // 600 results of 20 kB: 12 MB, far past what the kernel's buffers and the bound hold.
  CAF_REQUIRE(raw->send(calls(0, 600)));
  auto deadline = clock_type::now() + std::chrono::seconds{20};
  while (slow_consumers() < 1 && clock_type::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  CAF_CHECK_EQUAL(slow_consumers(), 1.0);
  CAF_CHECK_GREATER_OR_EQUAL(raw->ended_within(std::chrono::seconds{5}), 0);
  // The worker and other callers are served on.
  CAF_CHECK(worker->connected());
  auto caller = client::client::connect(endpoint(), secret);
  auto answer = caller->call<std::string>("svc", "big", 1);
  CAF_REQUIRE(answer.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  CAF_CHECK_EQUAL(answer.get(), std::string(result_bytes, 'b'));
}

CAF_TEST(a caller that reads late gets every result of the calls it sent) {
  auto raw = raw_caller();
  // Waves of 10 calls (200 kB of results) until the server stops reading: first the
  // kernel's buffers fill, then the server's queue passes its pause. Few results are
  // due at any time, so what is queued stays under the bound.
  int sent = 0;
  auto paused = [&] {
    return server.log().find("event=native_reading_paused") != std::string::npos;
  };
  while (!paused() && sent < 600) {
    CAF_REQUIRE(raw->send(calls(sent, 10)));
    sent += 10;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  CAF_REQUIRE(paused());
  CAF_MESSAGE("reading paused after " << sent << " calls");
  // Read only once the client took most of what was queued.
  CAF_REQUIRE(raw->send(calls(sent, 10)));
  sent += 10;
  std::set<std::string> results;
  std::string received;
  auto deadline = clock_type::now() + std::chrono::seconds{30};
  while (results.size() < static_cast<std::size_t>(sent) &&
         clock_type::now() < deadline) {
    received += raw->read_to_end(std::chrono::milliseconds{100});
    consume_frames(received, [&](const msgpack::object& body) {
      CAF_REQUIRE(protocol::type_of(body) != protocol::frame_type::error);
      if (protocol::type_of(body) == protocol::frame_type::result)
        results.insert(protocol::decode<protocol::result>(body).call_id);
    });
  }
  CAF_CHECK_EQUAL(results.size(), static_cast<std::size_t>(sent));
  CAF_CHECK_EQUAL(slow_consumers(), 0.0);
}

CAF_TEST_FIXTURE_SCOPE_END()
