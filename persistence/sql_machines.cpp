#include "persistence/sql_machines.hpp"

#include "persistence/sql_values.hpp"

#include <nlohmann/json.hpp>

namespace diffplane::persistence::sql {

void upsert_machines(pqxx::transaction_base& txn,
                     const std::vector<const machine_record*>& rows) {
  if (rows.empty())
    return;
  std::string query = "INSERT INTO machines (cluster_id, id, service, ip, deployment_id, "
                      "last_ping_at) VALUES ";
  const char* separator = "";
  for (const auto* m : rows) {
    query += separator;
    query += "(" + text(txn, m->cluster_id) + "," + text(txn, m->id) + "," +
             text_or_null(txn, m->service) + "," + text_or_null(txn, m->ip) + "," +
             text_or_null(txn, m->deployment_id) + "," +
             timestamp_or_now(m->last_ping_at) + ")";
    separator = ",";
  }
  query += " ON CONFLICT (cluster_id, id) DO UPDATE SET service = excluded.service, "
           "ip = excluded.ip, deployment_id = excluded.deployment_id, "
           "last_ping_at = greatest(machines.last_ping_at, excluded.last_ping_at)";
  txn.exec(query);
}

std::vector<machine_record> load_machines(pqxx::transaction_base& txn,
                                          const std::string& cluster_id) {
  std::vector<machine_record> result;
  auto rows = txn.exec("SELECT cluster_id, id, service, ip, deployment_id, " +
                       epoch_ms("last_ping_at") + " FROM machines WHERE cluster_id = " +
                       text(txn, cluster_id) + " ORDER BY last_ping_at DESC");
  for (const auto& row : rows)
    result.push_back(machine_record{row[0].as<std::string>(), row[1].as<std::string>(),
                                    field_text(row[2]), field_text(row[3]),
                                    field_text(row[4]), row[5].as<timestamp_ms>()});
  return result;
}

void upsert_services(pqxx::transaction_base& txn,
                     const std::vector<const service_record*>& rows) {
  if (rows.empty())
    return;
  std::string query =
      "INSERT INTO services (cluster_id, name, functions, updated_at) VALUES ";
  const char* separator = "";
  for (const auto* s : rows) {
    auto functions = nlohmann::json::array();
    for (const auto& name : s->functions)
      functions.push_back({{"name", name}});
    query += separator;
    query += "(" + text(txn, s->cluster_id) + "," + text(txn, s->name) + "," +
             text(txn, functions.dump()) + "::jsonb," + timestamp_or_now(s->updated_at) +
             ")";
    separator = ",";
  }
  query +=
      " ON CONFLICT (cluster_id, name) DO UPDATE SET functions = excluded.functions, "
      "updated_at = excluded.updated_at";
  txn.exec(query);
}

std::vector<service_record> load_services(pqxx::transaction_base& txn,
                                          const std::string& cluster_id) {
  std::vector<service_record> result;
  auto rows = txn.exec(
      "SELECT cluster_id, name, functions::text, " + epoch_ms("updated_at") +
      " FROM services WHERE cluster_id = " + text(txn, cluster_id) + " ORDER BY name");
  for (const auto& row : rows) {
    service_record s{row[0].as<std::string>(),
                     row[1].as<std::string>(),
                     {},
                     row[3].as<timestamp_ms>()};
    auto functions = nlohmann::json::parse(row[2].as<std::string>(), nullptr, false);
    if (functions.is_array())
      for (const auto& f : functions)
        if (f.is_object() && f.contains("name") && f["name"].is_string())
          s.functions.push_back(f["name"].get<std::string>());
    result.push_back(std::move(s));
  }
  return result;
}

} // namespace diffplane::persistence::sql
