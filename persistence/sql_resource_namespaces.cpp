#include "persistence/sql_resource_namespaces.hpp"

#include "persistence/sql_values.hpp"

namespace diffplane::persistence::sql {

namespace {

/// Seconds as an interval; 0 (off) as NULL.
std::string seconds_or_null(std::int64_t seconds) {
  return seconds > 0 ? "make_interval(secs => " + std::to_string(seconds) + ")"
                     : std::string{"NULL::interval"};
}

/// An interval column as whole seconds; NULL as 0.
std::string seconds_of(const char* column) {
  return std::string{"coalesce(extract(epoch from "} + column + ")::bigint, 0)";
}

} // namespace

void write_resource_namespaces(
    pqxx::transaction_base& txn,
    const std::vector<const resource_namespace_record*>& rows) {
  if (rows.empty())
    return;
  std::string query =
      "INSERT INTO resource_namespaces (cluster_id, name, max_workers, expiry_ttl, "
      "synced_retention, deleted_retention, updated_at) VALUES ";
  const char* separator = "";
  for (const auto* n : rows) {
    query += separator;
    query += "(" + text(txn, n->cluster_id) + "," + text(txn, n->name) + "," +
             (n->max_workers > 0 ? std::to_string(n->max_workers) : std::string{"NULL"}) +
             "::integer," + seconds_or_null(n->expiry_ttl_seconds) + "," +
             seconds_or_null(n->synced_retention_seconds) + "," +
             seconds_or_null(n->deleted_retention_seconds) + "," +
             timestamp_or_now(n->updated_at) + ")";
    separator = ",";
  }
  query += " ON CONFLICT (cluster_id, name) DO UPDATE SET "
           "max_workers = excluded.max_workers, expiry_ttl = excluded.expiry_ttl, "
           "synced_retention = excluded.synced_retention, "
           "deleted_retention = excluded.deleted_retention, "
           "updated_at = excluded.updated_at";
  txn.exec(query);
}

std::vector<resource_namespace_record>
load_resource_namespaces(pqxx::transaction_base& txn, const std::string& cluster_id) {
  std::vector<resource_namespace_record> result;
  for (const auto& row :
       txn.exec("SELECT cluster_id, name, coalesce(max_workers, 0), " +
                seconds_of("expiry_ttl") + ", " + seconds_of("synced_retention") + ", " +
                seconds_of("deleted_retention") + ", " + epoch_ms("updated_at") +
                " FROM resource_namespaces WHERE cluster_id = " + text(txn, cluster_id)))
    result.push_back(resource_namespace_record{
        row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::int32_t>(),
        row[3].as<std::int64_t>(), row[4].as<std::int64_t>(), row[5].as<std::int64_t>(),
        row[6].as<timestamp_ms>()});
  return result;
}

void remove_resources(pqxx::transaction_base& txn,
                      const std::vector<const resource_key*>& keys) {
  if (keys.empty())
    return;
  std::string query = "DELETE FROM resources WHERE (cluster_id, kind, object_id) IN (";
  const char* separator = "";
  for (const auto* k : keys) {
    query += separator;
    query += "(" + text(txn, k->cluster_id) + "," + text(txn, k->kind) + "," +
             text(txn, k->id) + ")";
    separator = ",";
  }
  txn.exec(query + ")");
}

} // namespace diffplane::persistence::sql
