#include "persistence/sql_events.hpp"

#include "persistence/sql_values.hpp"

namespace diffplane::persistence::sql {

void insert_events(pqxx::transaction_base& txn,
                   const std::vector<const event_record*>& rows) {
  if (rows.empty())
    return;
  std::string query = "INSERT INTO events (cluster_id, type, job_id, machine_id, "
                      "deployment_id, service, meta, created_at) VALUES ";
  const char* separator = "";
  for (const auto* e : rows) {
    query += separator;
    query += "(" + text(txn, e->cluster_id) + "," + text(txn, e->type) + "," +
             text_or_null(txn, e->job_id) + "," + text_or_null(txn, e->machine_id) + "," +
             text_or_null(txn, e->deployment_id) + "," + text_or_null(txn, e->service) +
             "," + text_or_null(txn, e->meta_json) + "::jsonb," +
             timestamp_or_now(e->created_at) + ")";
    separator = ",";
  }
  txn.exec(query);
}

void insert_client_events(pqxx::transaction_base& txn,
                          const std::vector<const client_event_record*>& rows) {
  if (rows.empty())
    return;
  std::string query = "INSERT INTO client_events (cluster_id, machine_id, deployment_id, "
                      "type, occurred_at, tags, int_fields) VALUES ";
  const char* separator = "";
  for (const auto* e : rows) {
    query += separator;
    query += "(" + text(txn, e->cluster_id) + "," + text_or_null(txn, e->machine_id) +
             "," + text_or_null(txn, e->deployment_id) + "," + text(txn, e->type) + "," +
             timestamp_or_now(e->timestamp) + "," + text_or_null(txn, e->tags_json) +
             "::jsonb," + text_or_null(txn, e->int_fields_json) + "::jsonb)";
    separator = ",";
  }
  txn.exec(query);
}

} // namespace diffplane::persistence::sql
