#define CAF_SUITE connection_settings

#include "persistence/connection_settings.hpp"

#include <caf/test/unit_test.hpp>

#include <postgresql/libpq-fe.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>

using namespace diffplane::persistence;
using namespace std::chrono_literals;

namespace {

/// The parameters libpq reads from `conninfo`, as it will connect with them.
std::map<std::string, std::string> read_back(const std::string& conninfo) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options{
      PQconninfoParse(conninfo.c_str(), &error), &PQconninfoFree};
  if (!options) {
    std::string message = error ? error : "?";
    PQfreemem(error);
    CAF_FAIL("libpq cannot read back " << conninfo << ": " << message);
  }
  std::map<std::string, std::string> out;
  for (auto* o = options.get(); o->keyword != nullptr; ++o)
    if (o->val != nullptr)
      out[o->keyword] = o->val;
  return out;
}

connection_settings writer_settings() {
  connection_settings s;
  s.statement_timeout = 10s;
  s.idle_in_transaction_timeout = 60s;
  return s;
}

} // namespace

CAF_TEST(a URL gets every timeout and keeps its own parameters) {
  auto out = read_back(connection_string(
      "postgresql://app:p%40ss@db.example:6432/jobs?sslmode=require", writer_settings()));
  CAF_CHECK_EQUAL(out["host"], "db.example");
  CAF_CHECK_EQUAL(out["port"], "6432");
  CAF_CHECK_EQUAL(out["user"], "app");
  CAF_CHECK_EQUAL(out["password"], "p@ss");
  CAF_CHECK_EQUAL(out["dbname"], "jobs");
  CAF_CHECK_EQUAL(out["sslmode"], "require");
  CAF_CHECK_EQUAL(out["connect_timeout"], "5");
  CAF_CHECK_EQUAL(out["keepalives"], "1");
  CAF_CHECK_EQUAL(out["keepalives_idle"], "10");
  CAF_CHECK_EQUAL(out["keepalives_interval"], "5");
  CAF_CHECK_EQUAL(out["keepalives_count"], "3");
  CAF_CHECK_EQUAL(out["tcp_user_timeout"], "20000");
  CAF_CHECK_EQUAL(out["options"], "-c statement_timeout=10000 -c "
                                  "idle_in_transaction_session_timeout=60000");
}

CAF_TEST(a key value string gets them too with quoted values intact) {
  auto out = read_back(connection_string(
      R"(host=/tmp/pg port=5433 dbname=x password='it\'s \\ odd')", writer_settings()));
  CAF_CHECK_EQUAL(out["host"], "/tmp/pg");
  CAF_CHECK_EQUAL(out["port"], "5433");
  CAF_CHECK_EQUAL(out["password"], R"(it's \ odd)");
  CAF_CHECK_EQUAL(out["connect_timeout"], "5");
  CAF_CHECK_EQUAL(out["tcp_user_timeout"], "20000");
}

CAF_TEST(values the operator set are kept) {
  auto out = read_back(
      connection_string("postgresql:///db?host=/run/pg&connect_timeout=30&keepalives=0"
                        "&options=-c%20statement_timeout%3D0",
                        writer_settings()));
  CAF_CHECK_EQUAL(out["connect_timeout"], "30");
  CAF_CHECK_EQUAL(out["keepalives"], "0");
  // Our idle timeout joins the operator's options; their statement_timeout stays.
  CAF_CHECK_EQUAL(out["options"],
                  "-c statement_timeout=0 -c idle_in_transaction_session_timeout=60000");
}

CAF_TEST(a libpq environment variable counts as set by the operator) {
  setenv("PGCONNECT_TIMEOUT", "17", 1);
  setenv("PGOPTIONS", "-c statement_timeout=1234", 1);
  auto out = read_back(connection_string("dbname=x", writer_settings()));
  unsetenv("PGCONNECT_TIMEOUT");
  unsetenv("PGOPTIONS");
  CAF_CHECK_EQUAL(out.count("connect_timeout"), 0u);
  CAF_CHECK_EQUAL(
      out["options"],
      "-c statement_timeout=1234 -c idle_in_transaction_session_timeout=60000");
}

CAF_TEST(zero settings add nothing) {
  connection_settings none;
  none.connect_timeout = 0s;
  none.keepalive_idle = 0s;
  none.keepalive_interval = 0s;
  none.keepalive_count = 0;
  none.tcp_user_timeout = 0ms;
  auto out = read_back(connection_string("dbname=x", none));
  CAF_CHECK_EQUAL(out.size(), 2u); // dbname and keepalives=1
  CAF_CHECK_EQUAL(out["keepalives"], "1");
}

CAF_TEST(a string libpq cannot read is refused with its reason) {
  for (const auto* bad : {"host=x port", "postgresql://h/db?nosuch=1"}) {
    std::string message;
    try {
      connection_string(bad, writer_settings());
    } catch (const std::invalid_argument& e) {
      message = e.what();
    }
    CAF_CHECK_EQUAL(message.rfind("the database URL does not parse: ", 0), 0u);
  }
}
