#define CAF_SUITE cli_commands

#include "http_test_helpers.hpp"

#include <caf/test/unit_test.hpp>

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

CAF_TEST_FIXTURE_SCOPE_END()
