#define CAF_SUITE node_lock

#include "http_test_helpers.hpp"

#include <caf/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <string>
#include <thread>

// One server per database: the server holds a session-level advisory lock, and a
// database restart or a terminated backend ends that session and releases the lock.

using namespace diffplane::testing;
using namespace std::chrono_literals;

namespace {

/// persistence/node_lock.cpp's key.
const std::string lock_key = std::to_string(0x646966666e6f6465LL);

struct fixture {
  std::string url = create_test_database();

  std::vector<std::string> server_args() const {
    return {"--database-url", url, "--management-secret", test_management_secret};
  }

  /// The backend holding the node lock on this database, or 0.
  int lock_holder() const {
    pqxx::connection connection{url};
    pqxx::nontransaction txn{connection};
    auto rows =
        txn.exec("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                 "AND database = (SELECT oid FROM pg_database "
                 "WHERE datname = current_database())");
    return rows.empty() ? 0 : rows[0][0].as<int>();
  }

  /// Checks that a second server on this database is refused with a clear message.
  void expect_second_server_refused() const {
    auto second = run_diffplane({"serve", "--listen", "127.0.0.1:0", "--database-url",
                                 url, "--management-secret", test_management_secret});
    CAF_CHECK_EQUAL(second.exit_code, 1);
    CAF_CHECK(second.output.find("another diffplane server is using this database") !=
              std::string::npos);
  }

  /// Ends the lock holder's session, as a database restart would, and waits until it is
  /// gone.
  void end_lock_session(pqxx::connection& connection) const {
    pqxx::nontransaction txn{connection};
    txn.exec("SELECT pg_terminate_backend(" + std::to_string(lock_holder()) + ", 5000)");
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(node_lock_tests, fixture)

CAF_TEST(a second server on the same database is refused) {
  server_process first{server_args()};
  expect_second_server_refused();
  CAF_CHECK_EQUAL(first.client().request("GET", "/live").status, 200u);
}

CAF_TEST(a server takes its lock again after its session ended) {
  server_process first{server_args()};
  auto before = lock_holder();
  CAF_REQUIRE_NOT_EQUAL(before, 0);
  pqxx::connection connection{url};
  end_lock_session(connection);
  auto until = std::chrono::steady_clock::now() + 10s;
  while ((lock_holder() == 0 || lock_holder() == before) &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  CAF_CHECK_NOT_EQUAL(lock_holder(), 0);
  CAF_CHECK_NOT_EQUAL(lock_holder(), before);
  // So a second server is still refused.
  expect_second_server_refused();
  CAF_CHECK_EQUAL(first.client().request("GET", "/live").status, 200u);
  CAF_CHECK(first.log().find("event=node_lock_taken_again") != std::string::npos);
}

CAF_TEST(a server whose lock another server took exits at once) {
  server_process first{server_args()};
  pqxx::connection thief{url};
  end_lock_session(thief);
  // The server looks at its lock once a second: the thief is faster.
  pqxx::nontransaction txn{thief};
  CAF_REQUIRE(txn.exec1("SELECT pg_try_advisory_lock(" + lock_key + ")")[0].as<bool>());
  CAF_CHECK_EQUAL(first.wait(10s), 1);
  CAF_CHECK(first.log().find("event=node_lock_lost") != std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
