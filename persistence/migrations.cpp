#include "persistence/migrations.hpp"

#include <pqxx/pqxx>

#include <stdexcept>

namespace diffplane::persistence {

namespace {
// Any constant shared by every diffplane node; it names "the schema" as a lock.
constexpr long long schema_lock_key = 0x646966667061; // "diffpa"
} // namespace

migration_report apply_migrations(pqxx::connection_base& connection) {
  pqxx::work txn{connection, "apply_migrations"};
  txn.exec("SELECT pg_advisory_xact_lock(" + std::to_string(schema_lock_key) + ")");
  txn.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
           " version integer PRIMARY KEY,"
           " name text NOT NULL,"
           " applied_at timestamptz NOT NULL DEFAULT now())");
  auto row = txn.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations");
  migration_report report;
  report.version_before = row[0].as<int>();
  report.version_after = report.version_before;
  const auto& known = migrations();
  int newest_known = known.empty() ? 0 : known.back().version;
  if (report.version_before > newest_known)
    throw std::runtime_error("the database schema is at version " +
                             std::to_string(report.version_before) +
                             ", newer than this diffplane knows (" +
                             std::to_string(newest_known) + "); run a newer diffplane");
  for (const auto& m : known) {
    if (m.version <= report.version_before)
      continue;
    txn.exec(m.sql);
    txn.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    m.version, std::string{m.name});
    report.version_after = m.version;
  }
  txn.commit();
  return report;
}

} // namespace diffplane::persistence
