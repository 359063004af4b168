#include "persistence/write_plans.hpp"

#include <pqxx/pqxx>

#include <utility>

namespace diffplane::persistence {

std::span<const std::pair<const char*, const char*>> write_plan_settings() {
  // Planned anew for each batch (force_custom_plan), a fenced job write took longer to
  // plan than to run (pg_stat_statements, one node with two clusters: 0.68 ms planning,
  // 0.47 ms execution). A generic plan made from the statistics of a young table, with
  // every shape allowed, had hashed the whole of live_jobs and halved the saturated
  // cycle's throughput: hence no sequential scans, hash or merge joins.
  static constexpr std::pair<const char*, const char*> settings[] = {
      {"plan_cache_mode", "force_generic_plan"},
      {"enable_seqscan", "off"},
      {"enable_hashjoin", "off"},
      {"enable_mergejoin", "off"}};
  return settings;
}

void plan_for_writes(pqxx::connection_base& connection) {
  for (const auto& [name, value] : write_plan_settings())
    connection.set_variable(name, value);
}

void write_plan_refresh::before_use(pqxx::connection_base& connection,
                                    std::chrono::steady_clock::time_point now) {
  if (now - made_ < interval_)
    return;
  pqxx::nontransaction txn{connection, "refresh_plans"};
  txn.exec("DISCARD PLANS");
  made_ = now;
}

const char* const plan_for_reads =
    "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL enable_seqscan = on; "
    "SET LOCAL enable_hashjoin = on; SET LOCAL enable_mergejoin = on";

} // namespace diffplane::persistence
