#define CAF_SUITE native_controllers

#include "http_test_helpers.hpp"
#include "resource_waits.hpp"

#include <diffplane/client/client.hpp>

#include <caf/test/unit_test.hpp>

#include <mutex>
#include <thread>

using namespace diffplane;
using namespace diffplane::testing;
using nlohmann::json;
using namespace std::chrono_literals;

// A native C++ resource controller (client::add_controller) against a real server and
// Postgres: its work decides the informed resources' states, a throw fails the attempt
// with the error's message, and its informer is run by the control plane.
namespace {

struct user {
  std::string name;
  bool gone = false;
  bool broken = false;
  MSGPACK_DEFINE_MAP(name, gone, broken)
};

client::resource_action work_user(const client::resource<user>& r) {
  if (r.object.broken)
    throw std::runtime_error("the CRM refused " + r.id);
  return r.object.gone ? client::resource_action::deleted
                       : client::resource_action::synced;
}

struct fixture : server_fixture {
  fixture() : server_fixture({"--native-listen", "127.0.0.1:0"}) {}

  std::string secret = create_cluster("controllers");
  /// The informer's runs (before the client: its threads are joined when it goes).
  std::mutex runs_mutex;
  std::vector<client::inform_time> runs;
  std::shared_ptr<client::client> controller = client::client::connect(
      "127.0.0.1:" + std::to_string(server.native_port()), secret);

  cli::http_reply data(const std::string& method, const std::string& target,
                       const json& body = nullptr) {
    return call(method, target, secret, body.is_null() ? std::string{} : body.dump());
  }

  /// Waits until the user `id` reaches `state` (it may not be informed yet).
  json wait_for_state(const std::string& id, const std::string& state) {
    return wait_for_resource_state(
        [&](const std::string& target) { return data("GET", target); }, "user", id, state,
        15s);
  }

  /// Retries wait a minute, so that a failed resource stays failed while it is read.
  void slow_retries(json settings = json::object()) {
    settings["backoffBaseMs"] = 60000;
    auto reply = data("PUT", "/resources-kinds/user", settings);
    CAF_REQUIRE_EQUAL(reply.status, 200u);
  }
};

json user_item(const std::string& id, const json& object) {
  return json{{"kind", "user"}, {"id", id}, {"object", object}};
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(native_controllers_tests, fixture)

CAF_TEST(a native controller syncs deletes and fails informed resources) {
  slow_retries();
  controller->add_controller<user>("user", work_user, {}, 4);
  auto reply = data("POST", "/resources",
                    json{{"resources",
                          {user_item("1", {{"name", "ada"}}),
                           user_item("2", {{"name", "bob"}, {"gone", true}}),
                           user_item("3", {{"name", "cy"}, {"broken", true}}),
                           user_item("4", {{"name", 5}})}}});
  CAF_REQUIRE_EQUAL(reply.status, 200u);
  wait_for_state("1", "synced");
  wait_for_state("2", "deleted");
  auto failed = wait_for_state("3", "failed");
  CAF_REQUIRE_EQUAL(failed["errors"].size(), 1u);
  CAF_CHECK_EQUAL(failed["errors"][0]["message"], "the CRM refused 3");
  CAF_CHECK_EQUAL(failed["errors"][0]["attempt"], 1);
  // An object that does not decode as the controller's type fails its attempt too.
  auto undecodable = wait_for_state("4", "failed");
  auto message = undecodable["errors"][0]["message"].get<std::string>();
  CAF_CHECK(message.find("user/4 does not decode as") != std::string::npos);
  // The controller stays up, and a fixed object is synced.
  reply =
      data("POST", "/resources", json{{"resources", {user_item("3", {{"name", "cy"}})}}});
  CAF_REQUIRE_EQUAL(reply.status, 200u);
  wait_for_state("3", "synced");
}

CAF_TEST(an informer added with the controller is run by the control plane) {
  controller->add_controller<user>(
      "user", work_user, [&](client::inform_time last_run_at) {
        {
          std::lock_guard lock{runs_mutex};
          runs.push_back(last_run_at);
        }
        std::vector<client::informed_resource<user>> found(2);
        found[0].id = "a";
        found[0].object.name = "ann";
        found[0].version = 1;
        found[1].id = "b";
        found[1].object = user{"ben", true, false};
        found[1].tags = {{"source", "native"}};
        return found;
      });
  slow_retries({{"informIntervalSeconds", 1}});
  auto a = wait_for_state("a", "synced");
  CAF_CHECK_EQUAL(a["object"],
                  (json{{"name", "ann"}, {"gone", false}, {"broken", false}}));
  CAF_CHECK_EQUAL(a["version"], 1);
  auto b = wait_for_state("b", "deleted");
  CAF_CHECK_EQUAL(b["tags"], (json{{"source", "native"}}));
  // A later run is told when the first one started.
  auto deadline = std::chrono::steady_clock::now() + 15s;
  client::inform_time later;
  while (!later && std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock{runs_mutex};
      CAF_REQUIRE(!runs.empty());
      CAF_CHECK(!runs.front().has_value());
      if (runs.size() > 1)
        later = runs[1];
    }
    std::this_thread::sleep_for(50ms);
  }
  CAF_REQUIRE(later.has_value());
  auto kind = parse_json(data("GET", "/resources-kinds/user").body);
  CAF_CHECK(kind["informError"].is_null());
  CAF_CHECK(kind["lastInformedAt"].is_string());
  auto age = std::chrono::system_clock::now() - *later;
  CAF_CHECK(age > 0s && age < 60s);
  // The controller shows in the cluster's views like any worker of its service.
  auto details = parse_json(
      manage("GET", "/clusters/" + cluster_with("controllers")["id"].get<std::string>())
          .body);
  CAF_REQUIRE_EQUAL(details["machines"].size(), 1u);
  CAF_CHECK_EQUAL(details["machines"][0]["pool"], "resources.user");
  CAF_REQUIRE_EQUAL(details["definitions"].size(), 1u);
  CAF_CHECK_EQUAL(details["definitions"][0]["functions"].size(), 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
