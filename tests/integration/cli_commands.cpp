#define CAF_SUITE cli_commands

#include "http_test_helpers.hpp"

#include "actors/resource_lifecycle.hpp"

#include <caf/test/unit_test.hpp>

#include <thread>

using namespace diffplane;
using namespace diffplane::testing;
using nlohmann::json;

namespace {

struct fixture : server_fixture {
  std::vector<std::string> remote() const {
    return {"--endpoint", server.endpoint(), "--management-secret",
            test_management_secret};
  }

  command_result cli(std::vector<std::string> args) {
    auto r = remote();
    args.insert(args.end(), r.begin(), r.end());
    return run_diffplane(args);
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(cli_commands_tests, fixture)

CAF_TEST(cluster create prints the new cluster and list shows it) {
  auto created = cli({"cluster", "create", "--description", "from-cli", "--json"});
  CAF_REQUIRE_EQUAL(created.exit_code, 0);
  auto cluster = parse_json(created.output)[0];
  CAF_CHECK_EQUAL(cluster["description"].get<std::string>(), "from-cli");
  CAF_CHECK_EQUAL(cluster["apiSecret"].get<std::string>().rfind("sk_", 0), 0u);
  auto table = cli({"cluster", "list"});
  CAF_CHECK_EQUAL(table.exit_code, 0);
  CAF_CHECK(contains(table.output, "API SECRET"));
  CAF_CHECK(contains(table.output, cluster["id"].get<std::string>()));
}

CAF_TEST(info activity and job show describe what happened) {
  auto secret = create_cluster("inspected");
  auto id = cluster_with("inspected")["id"].get<std::string>();
  auto job = parse_json(call("POST", "/jobs", secret,
                             R"({"service":"svc","targetFn":"f","targetArgs":"kA=="})")
                            .body)["id"]
                 .get<std::string>();
  call("POST", "/jobs-request", secret, R"({"service":"svc","functions":[{"name":"f"}]})",
       {{"x-machine-id", "cli-machine"}});
  call("POST", "/jobs/" + job + "/result", secret,
       R"({"result":"kA==","resultType":"resolution"})",
       {{"x-machine-id", "cli-machine"}});

  auto info = cli({"cluster", "info", id});
  CAF_CHECK_EQUAL(info.exit_code, 0);
  CAF_CHECK(contains(info.output, "cli-machine"));
  CAF_CHECK(contains(info.output, job));

  auto activity = cli({"activity", id, "--job", job});
  CAF_CHECK_EQUAL(activity.exit_code, 0);
  CAF_CHECK(contains(activity.output, "jobCreated"));
  CAF_CHECK(contains(activity.output, "jobResulted"));

  auto shown = cli({"job", "show", job, "--cluster", id, "--json"});
  CAF_CHECK_EQUAL(shown.exit_code, 0);
  CAF_CHECK_EQUAL(parse_json(shown.output)["status"].get<std::string>(), "success");
}

CAF_TEST(errors exit with one line) {
  auto unknown = cli({"job", "show", "nope", "--cluster", "nope"});
  CAF_CHECK_EQUAL(unknown.exit_code, 1);
  CAF_CHECK(contains(unknown.output, "404"));
  auto usage = run_diffplane({"activity"});
  CAF_CHECK_EQUAL(usage.exit_code, 2);
  auto unreachable = run_diffplane({"cluster", "list", "--endpoint", "http://127.0.0.1:1",
                                    "--management-secret", test_management_secret});
  CAF_CHECK_EQUAL(unreachable.exit_code, 1);
  CAF_CHECK(contains(unreachable.output, "cannot connect"));
}

CAF_TEST(resources list show and invalidate) {
  auto secret = create_cluster("resourceful");
  auto id = cluster_with("resourceful")["id"].get<std::string>();
  CAF_REQUIRE_EQUAL(call("POST", "/resources", secret,
                         R"({"resources":[{"kind":"user","id":"42","object":{"n":1}},)"
                         R"({"kind":"user","id":"43","object":{"n":2},"namespace":"crm"}]})")
                        .status,
                    200u);
  auto listed = cli({"resources", "list", "--cluster", id, "--namespace", "crm", "--json"});
  CAF_REQUIRE_EQUAL(listed.exit_code, 0);
  auto page = parse_json(listed.output)["resources"];
  CAF_REQUIRE_EQUAL(page.size(), 1u);
  CAF_CHECK_EQUAL(page[0]["id"].get<std::string>(), "43");
  auto table = cli({"resources", "list", "--cluster", id, "--kind", "user"});
  CAF_CHECK_EQUAL(table.exit_code, 0);
  CAF_CHECK(contains(table.output, "NAMESPACE"));
  CAF_CHECK(contains(table.output, "crm"));
  auto shown = cli({"resources", "show", "user", "42", "--cluster", id});
  CAF_CHECK_EQUAL(shown.exit_code, 0);
  CAF_CHECK(contains(shown.output, "scheduled"));
  // Only a synced resource can be invalidated.
  auto early = cli({"resources", "invalidate", "user", "42", "--cluster", id});
  CAF_CHECK_EQUAL(early.exit_code, 1);
  CAF_CHECK(contains(early.output, "409"));
  auto work = parse_json(call("POST", "/jobs-request", secret,
                              R"({"service":"resources.user","limit":10})",
                              {{"x-machine-id", "cli-machine"}})
                             .body);
  CAF_REQUIRE_EQUAL(work.size(), 2u);
  for (const auto& job : work)
    call("POST", "/jobs/" + job["id"].get<std::string>() + "/result", secret,
         json{{"result", resources::encode_payload(R"({"action":"synced"})")},
              {"resultType", "resolution"}}
             .dump(),
         {{"x-machine-id", "cli-machine"}});
  for (int i = 0; i < 200 && json_field(call("GET", "/resources/user/42", secret).body,
                                        "state") != "synced";
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  auto invalidated = cli({"resources", "invalidate", "user", "42", "--cluster", id});
  CAF_CHECK_EQUAL(invalidated.exit_code, 0);
  CAF_CHECK(contains(invalidated.output, "user/42 expired"));
  auto with_secret = run_diffplane(
      {"resources", "show", "user", "42", "--endpoint", server.endpoint(), "--json"},
      {"DIFFPLANE_API_SECRET=" + secret});
  CAF_CHECK_EQUAL(with_secret.exit_code, 0);
  CAF_CHECK_EQUAL(parse_json(with_secret.output)["state"].get<std::string>(), "expired");
}

CAF_TEST(resources commands exit 2 on bad input) {
  auto secret = create_cluster("bad-input");
  auto id = cluster_with("bad-input")["id"].get<std::string>();
  auto state = cli({"resources", "list", "--cluster", id, "--state", "bogus"});
  CAF_CHECK_EQUAL(state.exit_code, 2);
  CAF_CHECK(contains(state.output, "state must be one of"));
  auto limit = cli({"resources", "list", "--cluster", id, "--limit", "0"});
  CAF_CHECK_EQUAL(limit.exit_code, 2);
  auto no_cluster = cli({"resources", "list"});
  CAF_CHECK_EQUAL(no_cluster.exit_code, 2);
  CAF_CHECK(contains(no_cluster.output, "--cluster"));
  auto missing = cli({"resources", "show", "user", "nobody", "--cluster", id});
  CAF_CHECK_EQUAL(missing.exit_code, 1);
  CAF_CHECK(contains(missing.output, "404"));
  (void)secret;
}

CAF_TEST_FIXTURE_SCOPE_END()
