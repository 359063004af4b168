#define CAF_SUITE dev_mode

#include "http_test_helpers.hpp"

#include <caf/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

using namespace diffplane::testing;

namespace {

struct fixture {
  std::string data_dir = make_temp_dir("diffplane-dev");

  ~fixture() {
    std::error_code ec;
    std::filesystem::remove_all(data_dir, ec);
  }

  std::vector<std::string> dev_args() const { return {"--dev", "--data-dir", data_dir}; }

  std::string management_secret() const {
    std::ifstream in{data_dir + "/management-secret"};
    std::string secret;
    std::getline(in, secret);
    return secret;
  }

  nlohmann::json clusters(const server_process& server) const {
    auto reply = server.client().request(
        "GET", "/clusters", {}, {{"Authorization", "Basic " + management_secret()}});
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    return parse_json(reply.body);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(dev_mode_tests, fixture)

CAF_TEST(dev mode keeps its clusters across a restart) {
  std::string secret;
  {
    server_process server{dev_args(), {"MANAGEMENT_SECRET=", "DATABASE_URL="}};
    CAF_CHECK(server.log().find("dev cluster") != std::string::npos);
    secret = management_secret();
    CAF_CHECK_EQUAL(secret.rfind("sk_management_", 0), 0u);
    auto created = server.client().request("POST", "/clusters", {},
                                           {{"Authorization", "Basic " + secret}});
    CAF_CHECK_EQUAL(created.status, 204u);
    CAF_CHECK_EQUAL(clusters(server).size(), 2u); // `dev` and the new one
    CAF_CHECK_EQUAL(server.stop(), 0);
  }
  server_process again{dev_args(), {"MANAGEMENT_SECRET=", "DATABASE_URL="}};
  CAF_CHECK_EQUAL(management_secret(), secret);
  CAF_CHECK_EQUAL(clusters(again).size(), 2u);
}

CAF_TEST(a second server on the same data dir fails with a clear message) {
  server_process first{dev_args(), {"MANAGEMENT_SECRET=", "DATABASE_URL="}};
  auto second =
      run_diffplane({"serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir", data_dir},
                    {"MANAGEMENT_SECRET=", "DATABASE_URL="});
  CAF_CHECK_EQUAL(second.exit_code, 1);
  CAF_CHECK(second.output.find("in use by another diffplane") != std::string::npos);
  // The first one is unharmed.
  CAF_CHECK_EQUAL(first.client().request("GET", "/live").status, 200u);
}

CAF_TEST(a dev server killed hard comes back on its running Postgres) {
  {
    server_process server{dev_args(), {"MANAGEMENT_SECRET=", "DATABASE_URL="}};
    server.kill();
  }
  server_process again{dev_args(), {"MANAGEMENT_SECRET=", "DATABASE_URL="}};
  CAF_CHECK(again.log().find("embedded_postgres_reused") != std::string::npos);
  CAF_CHECK_EQUAL(clusters(again).size(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
