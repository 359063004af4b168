#define CAF_SUITE native_resource_settings

#include "http_test_helpers.hpp"
#include "native_frames.hpp"
#include "raw_connection.hpp"

#include <diffplane/client/client.hpp>

#include <caf/test/unit_test.hpp>

#include <optional>

using namespace diffplane;
using namespace diffplane::testing;
using nlohmann::json;
using namespace std::chrono_literals;

// Reading a kind's settings, and reading and setting a namespace's limits, over the
// native protocol (read_kind, configure_namespace, read_namespace; client::kind_settings,
// client::configure_namespace, client::namespace_settings): what HTTP set is read over
// native and the reverse, a bad limit is refused with the HTTP route's message, and a
// client sees and touches its own cluster's settings alone.
namespace {

struct fixture : server_fixture {
  fixture() : server_fixture({"--native-listen", "127.0.0.1:0"}) {}

  std::string secret = create_cluster("settings");

  std::shared_ptr<client::client> connect(const std::string& with_secret) {
    return client::client::connect("127.0.0.1:" + std::to_string(server.native_port()),
                                   with_secret);
  }

  std::shared_ptr<client::client> native = connect(secret);

  json over_http(const std::string& target, const std::string& with_secret) {
    auto reply = call("GET", target, with_secret);
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    return parse_json(reply.body);
  }

  json put_over_http(const std::string& target, const std::string& with_secret,
                     const json& body) {
    auto reply = call("PUT", target, with_secret, body.dump());
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    return parse_json(reply.body);
  }

  /// The error message of PUT `target` with `body` (a 400).
  std::string http_refusal(const std::string& target, const json& body) {
    auto reply = call("PUT", target, secret, body.dump());
    CAF_REQUIRE_EQUAL(reply.status, 400u);
    return parse_json(reply.body)["message"].get<std::string>();
  }

  /// The name and message of the error `configure_namespace` ends with (empty when it
  /// succeeds).
  std::pair<std::string, std::string> refusal(const std::string& name,
                                              const client::namespace_limits& limits) {
    try {
      native->configure_namespace(name, limits).get();
    } catch (const client::call_error& e) {
      return {e.name(), e.what()};
    }
    return {};
  }

  static std::int64_t seconds(const std::optional<std::chrono::seconds>& value) {
    return value ? value->count() : 0;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(native_resource_settings_tests, fixture)

CAF_TEST(a kind s settings put over HTTP are read over native) {
  // Never set: the server's defaults.
  auto defaults = native->kind_settings("user").get();
  CAF_CHECK_EQUAL(defaults.kind, "user");
  CAF_CHECK_EQUAL(defaults.backoff_base.count(), 1000);
  CAF_CHECK_EQUAL(defaults.backoff_cap.count(), 300000);
  CAF_CHECK_EQUAL(defaults.timeout.count(), 300);
  CAF_CHECK(!defaults.inform_interval.has_value());
  put_over_http("/resources-kinds/user", secret,
                {{"backoffBaseMs", 250}, {"backoffCapMs", 9000}, {"timeoutSeconds", 12},
                 {"informIntervalSeconds", 7200}});
  auto status = native->kind_settings("user").get();
  CAF_CHECK_EQUAL(status.backoff_base.count(), 250);
  CAF_CHECK_EQUAL(status.backoff_cap.count(), 9000);
  CAF_CHECK_EQUAL(status.timeout.count(), 12);
  CAF_REQUIRE(status.inform_interval.has_value());
  CAF_CHECK_EQUAL(status.inform_interval->count(), 7200);
  // And what native configured is what native reads.
  client::kind_settings settings;
  settings.timeout = 45s;
  native->configure_kind("user", settings).get();
  status = native->kind_settings("user").get();
  CAF_CHECK_EQUAL(status.timeout.count(), 45);
  CAF_CHECK_EQUAL(status.backoff_base.count(), 1000);
  CAF_CHECK(!status.inform_interval.has_value());
}

CAF_TEST(namespace limits put over HTTP are read over native and the reverse) {
  auto unset = native->namespace_settings("crm").get();
  CAF_CHECK(!unset.max_workers.has_value());
  CAF_CHECK(!unset.expiry_ttl.has_value());
  CAF_CHECK(!unset.synced_retention.has_value());
  CAF_CHECK(!unset.deleted_retention.has_value());
  put_over_http("/resources-namespaces/crm", secret,
                {{"maxWorkers", 5}, {"expiryTtlSeconds", 3600},
                 {"deletedRetentionSeconds", 86400}});
  auto limits = native->namespace_settings("crm").get();
  CAF_REQUIRE(limits.max_workers.has_value());
  CAF_CHECK_EQUAL(*limits.max_workers, 5);
  CAF_CHECK_EQUAL(seconds(limits.expiry_ttl), 3600);
  CAF_CHECK(!limits.synced_retention.has_value());
  CAF_CHECK_EQUAL(seconds(limits.deleted_retention), 86400);
  // Set over native: committed before the answer, read back over HTTP. Like a PUT it
  // replaces every limit: the ones not given are unlimited or off again.
  client::namespace_limits changed;
  changed.max_workers = 3;
  changed.synced_retention = 120s;
  auto answer = native->configure_namespace("crm", changed).get();
  CAF_REQUIRE(answer.max_workers.has_value());
  CAF_CHECK_EQUAL(*answer.max_workers, 3);
  CAF_CHECK(!answer.expiry_ttl.has_value());
  CAF_CHECK_EQUAL(seconds(answer.synced_retention), 120);
  auto ns = over_http("/resources-namespaces/crm", secret);
  CAF_CHECK_EQUAL(ns["name"], "crm");
  CAF_CHECK_EQUAL(ns["maxWorkers"], 3);
  CAF_CHECK(ns["expiryTtlSeconds"].is_null());
  CAF_CHECK_EQUAL(ns["syncedRetentionSeconds"], 120);
  CAF_CHECK(ns["deletedRetentionSeconds"].is_null());
  limits = native->namespace_settings("crm").get();
  CAF_CHECK_EQUAL(seconds(limits.synced_retention), 120);
  // Empty limits lift them all.
  native->configure_namespace("crm", {}).get();
  ns = over_http("/resources-namespaces/crm", secret);
  CAF_CHECK(ns["maxWorkers"].is_null());
}

CAF_TEST(an invalid namespace limit is refused naming it as the HTTP route does) {
  client::namespace_limits zero_workers;
  zero_workers.max_workers = 0;
  auto zero = refusal("crm", zero_workers);
  CAF_CHECK_EQUAL(zero.first, "bad_request");
  CAF_CHECK_EQUAL(zero.second, "maxWorkers must be an integer from 1 to 100000, or null");
  CAF_CHECK_EQUAL(zero.second,
                  http_refusal("/resources-namespaces/crm", {{"maxWorkers", 0}}));
  client::namespace_limits long_expiry;
  long_expiry.expiry_ttl = 315'360'001s;
  auto expiry = refusal("crm", long_expiry);
  CAF_CHECK_EQUAL(expiry.first, "bad_request");
  CAF_CHECK_EQUAL(expiry.second, http_refusal("/resources-namespaces/crm",
                                              {{"expiryTtlSeconds", 315'360'001}}));
  client::namespace_limits negative;
  negative.deleted_retention = -5s;
  auto retention = refusal("crm", negative);
  CAF_CHECK(retention.second.rfind("deletedRetentionSeconds must be", 0) == 0);
  auto name = refusal("-crm", {});
  CAF_CHECK_EQUAL(name.first, "bad_request");
  CAF_CHECK_EQUAL(name.second, http_refusal("/resources-namespaces/-crm", json::object()));
  try {
    native->namespace_settings("-crm").get();
    CAF_FAIL("read a namespace with a bad name");
  } catch (const client::call_error& e) {
    CAF_CHECK_EQUAL(e.name(), "bad_request");
    CAF_CHECK(std::string{e.what()}.rfind("name must be 1 to 63", 0) == 0);
  }
  try {
    native->kind_settings("no such kind").get();
    CAF_FAIL("read a kind with a bad name");
  } catch (const client::call_error& e) {
    CAF_CHECK_EQUAL(e.name(), "bad_request");
    CAF_CHECK(std::string{e.what()}.rfind("kind must be 1 to 63", 0) == 0);
  }
  // Nothing was stored, and the connection still serves.
  auto ns = over_http("/resources-namespaces/crm", secret);
  CAF_CHECK(ns["maxWorkers"].is_null());
  CAF_CHECK(native->connected());
  client::namespace_limits good;
  good.max_workers = 100'000;
  auto accepted = native->configure_namespace("crm", good).get();
  CAF_CHECK_EQUAL(accepted.max_workers.value_or(0), 100'000);
}

CAF_TEST(a limit of the wrong type is an error frame and the connection stays open) {
  raw_connection raw{server.native_port()};
  msgpack::sbuffer bad;
  msgpack::packer<msgpack::sbuffer> packer{bad};
  packer.pack_array(4).pack(33).pack(std::string{"n1"}).pack(std::string{"crm"});
  packer.pack_map(1).pack(std::string{"maxWorkers"}).pack(std::string{"many"});
  auto bad_frame = framed(bad);
  protocol::configure_namespace good;
  good.request_id = "n2";
  good.name = "crm";
  good.settings.expiry_ttl_seconds = {true, true, 90};
  raw.send(protocol::encode(protocol::hello{protocol::version, secret, "test"}) +
           bad_frame + protocol::encode(good) +
           protocol::encode(protocol::read_kind{"k1", "user"}));
  auto frames = frames_of(raw.read_to_end(2s));
  CAF_REQUIRE_EQUAL(frames.size(), 4u);
  // The refusal comes at once; the answers come as the cluster gives them, in any order.
  CAF_REQUIRE(protocol::type_of(frames[1].get()) == protocol::frame_type::error);
  auto error = protocol::decode<protocol::error>(frames[1].get());
  CAF_CHECK_EQUAL(error.ref, "n1");
  CAF_CHECK_EQUAL(error.code, "bad_request");
  CAF_CHECK_EQUAL(error.message, "maxWorkers must be an integer from 1 to 100000, or null");
  std::optional<protocol::namespace_settings> configured;
  std::optional<protocol::kind_settings> kind;
  for (std::size_t i = 2; i < frames.size(); ++i) {
    auto type = protocol::type_of(frames[i].get());
    if (type == protocol::frame_type::namespace_settings)
      configured = protocol::decode<protocol::namespace_settings>(frames[i].get());
    else if (type == protocol::frame_type::kind_settings)
      kind = protocol::decode<protocol::kind_settings>(frames[i].get());
  }
  CAF_REQUIRE(configured.has_value());
  CAF_CHECK_EQUAL(configured->request_id, "n2");
  CAF_CHECK_EQUAL(configured->name, "crm");
  CAF_CHECK_EQUAL(configured->expiry_ttl_seconds, 90u);
  CAF_CHECK_EQUAL(configured->max_workers, 0u);
  CAF_REQUIRE(kind.has_value());
  CAF_CHECK_EQUAL(kind->request_id, "k1");
  CAF_CHECK_EQUAL(kind->kind, "user");
  CAF_CHECK_EQUAL(kind->timeout_seconds, 300u);
  // And a read_namespace afterwards sees what was committed.
  raw_connection reader{server.native_port()};
  reader.send(protocol::encode(protocol::hello{protocol::version, secret, "test"}) +
              protocol::encode(protocol::read_namespace{"n3", "crm"}));
  auto read_frames = frames_of(reader.read_to_end(2s));
  CAF_REQUIRE_EQUAL(read_frames.size(), 2u);
  CAF_REQUIRE(protocol::type_of(read_frames[1].get()) ==
              protocol::frame_type::namespace_settings);
  auto read = protocol::decode<protocol::namespace_settings>(read_frames[1].get());
  CAF_CHECK_EQUAL(read.request_id, "n3");
  CAF_CHECK_EQUAL(read.expiry_ttl_seconds, 90u);
}

CAF_TEST(a client of one cluster neither sees nor touches another cluster s settings) {
  auto other_secret = create_cluster("other");
  put_over_http("/resources-namespaces/crm", other_secret, {{"maxWorkers", 9}});
  put_over_http("/resources-kinds/user", other_secret, {{"timeoutSeconds", 9}});
  // The frames name no cluster: this client reads its own cluster's, never set.
  auto mine = native->namespace_settings("crm").get();
  CAF_CHECK(!mine.max_workers.has_value());
  CAF_CHECK_EQUAL(native->kind_settings("user").get().timeout.count(), 300);
  // What it sets is its own cluster's alone.
  client::namespace_limits limits;
  limits.max_workers = 2;
  native->configure_namespace("crm", limits).get();
  auto ours_over_http = over_http("/resources-namespaces/crm", secret);
  CAF_CHECK_EQUAL(ours_over_http["maxWorkers"], 2);
  auto theirs_over_http = over_http("/resources-namespaces/crm", other_secret);
  CAF_CHECK_EQUAL(theirs_over_http["maxWorkers"], 9);
  // And the other cluster's own client reads its own.
  auto other = connect(other_secret);
  auto theirs = other->namespace_settings("crm").get();
  CAF_REQUIRE(theirs.max_workers.has_value());
  CAF_CHECK_EQUAL(*theirs.max_workers, 9);
  CAF_CHECK_EQUAL(other->kind_settings("user").get().timeout.count(), 9);
  limits.max_workers = 4;
  other->configure_namespace("crm", limits).get();
  auto still_mine = native->namespace_settings("crm").get();
  CAF_CHECK_EQUAL(still_mine.max_workers.value_or(0), 2);
}

CAF_TEST_FIXTURE_SCOPE_END()
