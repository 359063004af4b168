#include "persistence/sql_clusters.hpp"

#include "persistence/sql_values.hpp"

namespace diffplane::persistence::sql {

void insert_clusters(pqxx::transaction_base& txn,
                     const std::vector<const cluster_record*>& rows) {
  if (rows.empty())
    return;
  // A cluster's jobs are all created after it, none of them in live_jobs yet.
  std::string query =
      "INSERT INTO clusters (id, api_secret, description, created_at, "
      "predictive_retries_enabled, cloud_enabled, live_jobs_before) VALUES ";
  const char* separator = "";
  for (const auto* c : rows) {
    query += separator;
    query += "(" + text(txn, c->id) + "," + text(txn, c->api_secret) + "," +
             text_or_null(txn, c->description) + "," + timestamp_or_now(c->created_at) +
             "," + boolean(c->predictive_retries_enabled) + "," +
             boolean(c->cloud_enabled) + "," + timestamp_or_now(c->created_at) + ")";
    separator = ",";
  }
  query += " ON CONFLICT (id) DO NOTHING";
  txn.exec(query);
}

namespace {

std::string cluster_columns() {
  return "id, api_secret, description, " + epoch_ms("created_at") +
         ", predictive_retries_enabled, cloud_enabled";
}

cluster_record cluster_of(const pqxx::row& row) {
  cluster_record c;
  c.id = row[0].as<std::string>();
  c.api_secret = row[1].as<std::string>();
  c.description = field_text(row[2]);
  c.created_at = row[3].as<timestamp_ms>();
  c.predictive_retries_enabled = row[4].as<bool>();
  c.cloud_enabled = row[5].as<bool>();
  return c;
}

} // namespace

std::vector<cluster_record> load_clusters(pqxx::transaction_base& txn) {
  auto rows =
      txn.exec("SELECT " + cluster_columns() + " FROM clusters ORDER BY created_at, id");
  std::vector<cluster_record> result;
  result.reserve(rows.size());
  for (const auto& row : rows)
    result.push_back(cluster_of(row));
  return result;
}

cluster_record load_cluster(pqxx::transaction_base& txn, const std::string& cluster_id) {
  auto rows = txn.exec("SELECT " + cluster_columns() +
                       " FROM clusters WHERE id = " + text(txn, cluster_id));
  return rows.empty() ? cluster_record{} : cluster_of(rows[0]);
}

void update_cluster_settings(pqxx::transaction_base& txn,
                             const std::vector<const cluster_settings_write*>& rows) {
  for (const auto* w : rows)
    txn.exec("UPDATE clusters SET predictive_retries_enabled = " +
             boolean(w->predictive_retries_enabled) +
             " WHERE id = " + text(txn, w->cluster_id));
}

} // namespace diffplane::persistence::sql
