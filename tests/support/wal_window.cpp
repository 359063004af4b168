#include "wal_window.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <thread>

namespace diffplane::testing {

using namespace std::chrono_literals;

struct wal_window::session {
  explicit session(const std::string& url) : db{url}, sql{db} {}
  pqxx::connection db;
  pqxx::nontransaction sql;

  std::vector<std::string> column_of(const std::string& query) {
    std::vector<std::string> values;
    for (const auto& row : sql.exec(query))
      values.push_back(row[0].as<std::string>());
    return values;
  }
};

wal_window::wal_window(const std::string& database_url)
    : session_{std::make_unique<session>(database_url)} {
  auto& sql = session_->sql;
  sql.exec("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
  // pg_walinspect reads only flushed WAL: the window runs from what was flushed before
  // the requests (a flushed write of theirs would be after it) to what is flushed after
  // them, all of it once the WAL writer has flushed the rest (within 200 ms).
  before_ = sql.exec1("SELECT pg_current_wal_flush_lsn()::text")[0].as<std::string>();
}

wal_window::~wal_window() = default;

std::vector<std::string> wal_window::records(const std::string& query) {
  auto& sql = session_->sql;
  auto inserted =
      sql.exec1("SELECT pg_current_wal_insert_lsn()::text")[0].as<std::string>();
  for (int i = 0; i < 100; ++i) {
    if (sql.exec1("SELECT pg_current_wal_flush_lsn() >= " + sql.quote(inserted) +
                  "::pg_lsn")[0]
            .as<bool>())
      break;
    std::this_thread::sleep_for(20ms);
  }
  auto after = sql.exec1("SELECT least(pg_current_wal_flush_lsn(), " +
                         sql.quote(inserted) + "::pg_lsn)::text")[0]
                   .as<std::string>();
  // Postgres 15 refuses a window that starts at the flushed end of the WAL: with
  // nothing written in it (no heartbeat fell inside), it holds no record.
  bool empty = sql.exec1("SELECT " + sql.quote(after) +
                         "::pg_lsn <= " + sql.quote(before_) + "::pg_lsn")[0]
                   .as<bool>();
  if (empty)
    return session_->column_of("WITH records AS (SELECT NULL::text AS record, NULL::oid "
                               "AS relation WHERE false) " +
                               query);
  return session_->column_of(
      "WITH records AS (SELECT w.resource_manager || '/' || w.record_type "
      "AS record, c.oid AS relation FROM pg_get_wal_records_info(" +
      sql.quote(before_) + ", " + sql.quote(after) +
      ") w LEFT JOIN pg_class c ON pg_relation_filenode(c.oid) = "
      "substring(w.block_ref from 'rel [0-9]+/[0-9]+/([0-9]+)')::oid "
      // The WAL is the whole server's: another test's database, made by the same
      // migrations, has tables of the same file numbers.
      "AND substring(w.block_ref from 'rel [0-9]+/([0-9]+)/')::oid = "
      "(SELECT oid FROM pg_database WHERE datname = current_database())) " +
      query);
}

bool wait_for_live_jobs_boundary(const std::string& database_url) {
  pqxx::connection db{database_url};
  pqxx::nontransaction sql{db};
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (sql.exec1(
               "SELECT coalesce(bool_and(c.live_jobs_before > (SELECT max(j.created_at) "
               "FROM jobs j WHERE j.cluster_id = c.id) IS NOT FALSE), true) "
               "FROM clusters c")[0]
            .as<bool>())
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

} // namespace diffplane::testing
