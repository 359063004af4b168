#include "persistence/sql_resource_events.hpp"

#include "persistence/prepared.hpp"
#include "persistence/sql_arrays.hpp"
#include "persistence/sql_values.hpp"

#include <array>

namespace diffplane::persistence::sql {

void insert_resource_events(pqxx::transaction_base& txn,
                            const std::vector<const resource_event_record*>& rows) {
  if (rows.empty())
    return;
  // One array parameter per column (sql_arrays.hpp says why).
  array_literal cluster_ids, seqs, kinds, ids, types, states, previous_states, attempts,
      messages, job_ids, ats;
  for (const auto* e : rows) {
    cluster_ids.add_text(e->cluster_id);
    seqs.add_int(e->seq);
    kinds.add_text(e->kind);
    ids.add_text(e->id);
    types.add_text(e->type);
    states.add_text(e->state);
    previous_states.add_text_or_null(e->previous_state);
    attempts.add_int(e->attempt);
    messages.add_text_or_null(e->message);
    job_ids.add_text_or_null(e->job_id);
    ats.add_int(e->at);
  }
  std::vector<std::string> params;
  for (auto* array : {&cluster_ids, &seqs, &kinds, &ids, &types, &states, &previous_states,
                      &attempts, &messages, &job_ids, &ats})
    params.push_back(array->take());
  static const std::string query =
      "INSERT INTO resource_events (cluster_id, seq, kind, object_id, type, state, "
      "previous_state, attempt, message, job_id, at) "
      "SELECT c, q, k, i, ty, s, ps, a, m, j, coalesce(" +
      timestamp_of_ms("tat") + ", now()) FROM unnest(" +
      array_parameters(1, std::array{"text", "bigint", "text", "text", "text", "text",
                                     "text", "integer", "text", "text", "bigint"}) +
      ") AS v(c, q, k, i, ty, s, ps, a, m, j, tat) "
      "ON CONFLICT (cluster_id, seq) DO NOTHING";
  exec_prepared(txn, "diffplane_insert_resource_events", query,
                pqxx::prepare::make_dynamic_params(params));
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
