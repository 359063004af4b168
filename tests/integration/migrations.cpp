#define CAF_SUITE migrations

#include "persistence/migrations.hpp"
#include "http_test_helpers.hpp"

#include <caf/test/unit_test.hpp>
#include <pqxx/pqxx>

using namespace diffplane;
using namespace diffplane::testing;

namespace {

struct fixture {
  std::string url = create_test_database();
};

int newest_version() {
  return persistence::migrations().back().version;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(migrations_tests, fixture)

CAF_TEST(migrations apply once and then do nothing) {
  pqxx::connection connection{url};
  auto first = persistence::apply_migrations(connection);
  CAF_CHECK_EQUAL(first.version_before, 0);
  CAF_CHECK_EQUAL(first.version_after, newest_version());
  auto second = persistence::apply_migrations(connection);
  CAF_CHECK_EQUAL(second.version_before, newest_version());
  CAF_CHECK_EQUAL(second.version_after, newest_version());
  pqxx::work txn{connection};
  CAF_CHECK_EQUAL(txn.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>(),
                  static_cast<int>(persistence::migrations().size()));
  for (auto table :
       {"clusters", "services", "machines", "jobs", "events", "client_events"})
    CAF_CHECK_EQUAL(
        txn.exec1(std::string{"SELECT to_regclass('"} + table + "') IS NOT NULL")[0]
            .as<bool>(),
        true);
}

CAF_TEST(a server restarted on the same database keeps its schema and data) {
  {
    server_process server{server_args(url)};
    auto reply = server.client().request(
        "POST", "/clusters", {}, {{"Authorization", "Basic " + test_management_secret}});
    CAF_CHECK_EQUAL(reply.status, 204u);
  }
  server_process again{server_args(url)};
  auto listed = again.client().request(
      "GET", "/clusters", {}, {{"Authorization", "Basic " + test_management_secret}});
  CAF_CHECK_EQUAL(parse_json(listed.body).size(), 1u);
}

CAF_TEST(a schema newer than the binary refuses to start) {
  {
    pqxx::connection connection{url};
    persistence::apply_migrations(connection);
    pqxx::work txn{connection};
    txn.exec(
        "INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')");
    txn.commit();
    pqxx::connection again{url};
    bool refused = false;
    try {
      persistence::apply_migrations(again);
    } catch (const std::runtime_error&) {
      refused = true;
    }
    CAF_CHECK(refused);
  }
  auto result = run_diffplane({"serve", "--listen", "127.0.0.1:0", "--database-url", url,
                               "--management-secret", test_management_secret});
  CAF_CHECK_EQUAL(result.exit_code, 1);
  CAF_CHECK(result.output.find("9999") != std::string::npos);
  CAF_CHECK(result.output.find("newer") != std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
