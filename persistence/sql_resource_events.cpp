#include "persistence/sql_resource_events.hpp"

#include "persistence/sql_values.hpp"

namespace diffplane::persistence::sql {

void insert_resource_events(pqxx::transaction_base& txn,
                            const std::vector<const resource_event_record*>& rows) {
  if (rows.empty())
    return;
  std::string query =
      "INSERT INTO resource_events (cluster_id, seq, kind, object_id, "
      "type, state, previous_state, attempt, message, job_id, at) VALUES ";
  const char* separator = "";
  for (const auto* e : rows) {
    query += separator;
    query += "(" + text(txn, e->cluster_id) + "," + std::to_string(e->seq) + "," +
             text(txn, e->kind) + "," + text(txn, e->id) + "," + text(txn, e->type) +
             "," + text(txn, e->state) + "," + text_or_null(txn, e->previous_state) +
             "," + std::to_string(e->attempt) + "," + text_or_null(txn, e->message) +
             "," + text_or_null(txn, e->job_id) + "," + timestamp_or_now(e->at) + ")";
    separator = ",";
  }
  query += " ON CONFLICT (cluster_id, seq) DO NOTHING";
  txn.exec(query);
}

std::int64_t last_resource_event(pqxx::transaction_base& txn,
                                 const std::string& cluster_id) {
  return txn
      .exec1("SELECT coalesce(max(seq), 0) FROM resource_events WHERE cluster_id = " +
             text(txn, cluster_id))[0]
      .as<std::int64_t>();
}

std::vector<resource_event_record>
read_resource_events(pqxx::transaction_base& txn,
                     const resource_events_request& request) {
  auto rows = txn.exec(
      "SELECT seq, kind, object_id, type, state, previous_state, attempt, message, "
      "job_id, " +
      epoch_ms("at") + " FROM resource_events WHERE cluster_id = " +
      text(txn, request.cluster_id) + " AND seq > " + std::to_string(request.after) +
      " AND seq <= " + std::to_string(request.up_to) + " ORDER BY seq LIMIT " +
      std::to_string(request.limit));
  std::vector<resource_event_record> events;
  events.reserve(rows.size());
  for (const auto& row : rows)
    events.push_back(resource_event_record{
        request.cluster_id, row[0].as<std::int64_t>(), row[1].as<std::string>(),
        row[2].as<std::string>(), row[3].as<std::string>(), row[4].as<std::string>(),
        field_text(row[5]), row[6].as<std::int32_t>(), field_text(row[7]),
        field_text(row[8]), row[9].as<timestamp_ms>()});
  return events;
}

std::int64_t prune_resource_events(pqxx::transaction_base& txn, std::int32_t hours) {
  auto rows = txn.exec("DELETE FROM resource_events WHERE at < now() - interval '" +
                       std::to_string(hours) + " hours'");
  return static_cast<std::int64_t>(rows.affected_rows());
}

} // namespace diffplane::persistence::sql
