#define CAF_SUITE native_kind_settings

#include "http_test_helpers.hpp"
#include "native_frames.hpp"
#include "raw_connection.hpp"
#include "resource_waits.hpp"

#include <diffplane/client/client.hpp>

#include <caf/test/unit_test.hpp>

#include <thread>

using namespace diffplane;
using namespace diffplane::testing;
using nlohmann::json;
using namespace std::chrono_literals;

// A kind's controller settings over the native protocol (configure_kind, and
// client::configure_kind): committed and read back over HTTP, in effect for the works,
// refused with the HTTP route's field and message, and confined to the client's cluster.
namespace {

struct user {
  std::string name;
  MSGPACK_DEFINE_MAP(name)
};

struct fixture : server_fixture {
  fixture() : server_fixture({"--native-listen", "127.0.0.1:0"}) {}

  std::string secret = create_cluster("kinds");
  std::shared_ptr<client::client> native = client::client::connect(
      "127.0.0.1:" + std::to_string(server.native_port()), secret);

  json kind_over_http(const std::string& kind, const std::string& with_secret) {
    auto reply = call("GET", "/resources-kinds/" + kind, with_secret);
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    return parse_json(reply.body);
  }

  /// The name and message of the error `configure_kind` ends with (empty when it
  /// succeeds).
  std::pair<std::string, std::string> refusal(const std::string& kind,
                                              const client::kind_settings& settings) {
    try {
      native->configure_kind(kind, settings).get();
    } catch (const client::call_error& e) {
      return {e.name(), e.what()};
    }
    return {};
  }

  /// The error message of PUT /resources-kinds/`kind` with `body` (a 400).
  std::string http_refusal(const std::string& kind, const json& body) {
    auto reply = call("PUT", "/resources-kinds/" + kind, secret, body.dump());
    CAF_REQUIRE_EQUAL(reply.status, 400u);
    return parse_json(reply.body)["message"].get<std::string>();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(native_kind_settings_tests, fixture)

CAF_TEST(settings configured over native are committed and read back over HTTP) {
  client::kind_settings settings;
  settings.backoff_base = 500ms;
  settings.backoff_cap = 60s;
  settings.timeout = 30s;
  auto status = native->configure_kind("user", settings).get();
  CAF_CHECK_EQUAL(status.kind, "user");
  CAF_CHECK_EQUAL(status.backoff_base.count(), 500);
  CAF_CHECK_EQUAL(status.backoff_cap.count(), 60000);
  CAF_CHECK_EQUAL(status.timeout.count(), 30);
  CAF_CHECK(!status.inform_interval.has_value());
  CAF_CHECK(!status.last_informed_at.has_value());
  auto kind = kind_over_http("user", secret);
  CAF_CHECK_EQUAL(kind["backoffBaseMs"], 500);
  CAF_CHECK_EQUAL(kind["backoffCapMs"], 60000);
  CAF_CHECK_EQUAL(kind["timeoutSeconds"], 30);
  CAF_CHECK(kind["informIntervalSeconds"].is_null());
  // Like a PUT, a configure replaces every setting: the unset ones go back to default.
  client::kind_settings only_interval;
  only_interval.inform_interval = 3600s;
  status = native->configure_kind("user", only_interval).get();
  CAF_CHECK_EQUAL(status.backoff_base.count(), 1000);
  CAF_CHECK_EQUAL(status.timeout.count(), 300);
  CAF_REQUIRE(status.inform_interval.has_value());
  CAF_CHECK_EQUAL(status.inform_interval->count(), 3600);
  kind = kind_over_http("user", secret);
  CAF_CHECK_EQUAL(kind["timeoutSeconds"], 300);
  CAF_CHECK_EQUAL(kind["informIntervalSeconds"], 3600);
}

CAF_TEST(a timeout configured over native fails a work that runs longer) {
  client::kind_settings settings;
  settings.timeout = 1s;
  settings.backoff_base = 60s; // a failed resource stays failed while it is read
  settings.backoff_cap = 60s;
  native->add_controller<user>("slow", settings, [](const client::resource<user>&) {
    std::this_thread::sleep_for(3s); // the default timeout (300 s) would let it sync
    return client::resource_action::synced;
  });
  auto reply = call("POST", "/resources", secret,
                    json{{"kind", "slow"}, {"id", "1"}, {"object", {{"name", "ada"}}}}
                        .dump());
  CAF_REQUIRE_EQUAL(reply.status, 200u);
  auto failed = wait_for_resource_state(
      [&](const std::string& target) { return call("GET", target, secret); }, "slow", "1",
      "failed", 15s);
  CAF_REQUIRE_EQUAL(failed["errors"].size(), 1u);
  auto message = failed["errors"][0]["message"].get<std::string>();
  CAF_CHECK(message.find("timed out") != std::string::npos);
}

CAF_TEST(an invalid setting is refused naming it as the HTTP route does) {
  client::kind_settings zero_timeout;
  zero_timeout.timeout = 0s;
  auto zero = refusal("user", zero_timeout);
  CAF_CHECK_EQUAL(zero.first, "bad_request");
  CAF_CHECK_EQUAL(zero.second,
                  "timeoutSeconds must be an integer from 1 to 86400, or null");
  auto over_http = http_refusal("user", {{"timeoutSeconds", 0}});
  CAF_CHECK_EQUAL(zero.second, over_http);
  client::kind_settings inverted;
  inverted.backoff_base = 2s;
  inverted.backoff_cap = 1s;
  auto cap = refusal("user", inverted);
  CAF_CHECK_EQUAL(cap.first, "bad_request");
  CAF_CHECK_EQUAL(cap.second, "backoffCapMs must not be below backoffBaseMs");
  auto cap_over_http =
      http_refusal("user", {{"backoffBaseMs", 2000}, {"backoffCapMs", 1000}});
  CAF_CHECK_EQUAL(cap.second, cap_over_http);
  client::kind_settings long_interval;
  long_interval.inform_interval = 86401s;
  auto interval = refusal("user", long_interval);
  CAF_CHECK(interval.second.rfind("informIntervalSeconds must be", 0) == 0);
  auto name = refusal("no/such kind", {});
  CAF_CHECK_EQUAL(name.first, "bad_request");
  CAF_CHECK(name.second.rfind("kind must be 1 to 63", 0) == 0);
  // Nothing was stored, and the connection still serves.
  auto kind = kind_over_http("user", secret);
  CAF_CHECK_EQUAL(kind["timeoutSeconds"], 300);
  CAF_CHECK(native->connected());
  auto status = native->configure_kind("user", {}).get();
  CAF_CHECK_EQUAL(status.timeout.count(), 300);
}

CAF_TEST(a setting of the wrong type is an error frame and the connection stays open) {
  raw_connection raw{server.native_port()};
  msgpack::sbuffer bad;
  msgpack::packer<msgpack::sbuffer> packer{bad};
  packer.pack_array(4).pack(30).pack(std::string{"r1"}).pack(std::string{"user"});
  packer.pack_map(1).pack(std::string{"timeoutSeconds"}).pack(std::string{"soon"});
  auto bad_frame = framed(bad);
  protocol::configure_kind good;
  good.request_id = "r2";
  good.kind = "user";
  good.settings.timeout_seconds = {true, true, 45};
  raw.send(protocol::encode(protocol::hello{protocol::version, secret, "test"}) +
           bad_frame + protocol::encode(good));
  auto frames = frames_of(raw.read_to_end(2s));
  CAF_REQUIRE_EQUAL(frames.size(), 3u);
  auto welcome = protocol::decode<protocol::welcome>(frames[0].get());
  CAF_REQUIRE_EQUAL(welcome.features.size(), 3u);
  CAF_CHECK_EQUAL(welcome.features[0], "configure_kind");
  CAF_CHECK_EQUAL(welcome.features[1], "read_kind");
  CAF_CHECK_EQUAL(welcome.features[2], "namespaces");
  CAF_REQUIRE(protocol::type_of(frames[1].get()) == protocol::frame_type::error);
  auto error = protocol::decode<protocol::error>(frames[1].get());
  CAF_CHECK_EQUAL(error.ref, "r1");
  CAF_CHECK_EQUAL(error.code, "bad_request");
  CAF_CHECK_EQUAL(error.message,
                  "timeoutSeconds must be an integer from 1 to 86400, or null");
  CAF_REQUIRE(protocol::type_of(frames[2].get()) == protocol::frame_type::kind_settings);
  auto answer = protocol::decode<protocol::kind_settings>(frames[2].get());
  CAF_CHECK_EQUAL(answer.request_id, "r2");
  CAF_CHECK_EQUAL(answer.timeout_seconds, 45u);
}

CAF_TEST(a client of one cluster cannot configure another cluster s kind) {
  auto other_secret = create_cluster("other");
  client::kind_settings settings;
  settings.timeout = 42s;
  native->configure_kind("user", settings).get();
  // The frame names no cluster: it reaches the connection's own cluster alone.
  auto mine = kind_over_http("user", secret);
  CAF_CHECK_EQUAL(mine["timeoutSeconds"], 42);
  auto theirs = kind_over_http("user", other_secret);
  CAF_CHECK_EQUAL(theirs["timeoutSeconds"], 300);
  // And the other cluster's own client changes only its own.
  auto other = client::client::connect(
      "127.0.0.1:" + std::to_string(server.native_port()), other_secret);
  settings.timeout = 7s;
  other->configure_kind("user", settings).get();
  mine = kind_over_http("user", secret);
  CAF_CHECK_EQUAL(mine["timeoutSeconds"], 42);
  theirs = kind_over_http("user", other_secret);
  CAF_CHECK_EQUAL(theirs["timeoutSeconds"], 7);
}

CAF_TEST_FIXTURE_SCOPE_END()
