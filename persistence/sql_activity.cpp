#include "persistence/sql_activity.hpp"

#include "persistence/sql_values.hpp"

namespace diffplane::persistence::sql {

namespace {

/// Entries derived from the rows of `jobs_source` (a table expression of jobs).
std::string derived_events(const std::string& jobs_source) {
  return "SELECT 'jobCreated' AS type, id AS job_id, NULL::text AS machine_id, "
         "NULL::text AS deployment_id, service, "
         "json_build_object('targetFn', target_fn, 'background', background)::text AS "
         "meta, "
         "created_at AS at FROM " +
         jobs_source +
         " UNION ALL SELECT 'jobReceived', id, executing_machine_id, NULL, service, "
         "json_build_object('targetFn', target_fn, 'attempt', attempts_used)::text, "
         "last_dispatched_at FROM " +
         jobs_source +
         " WHERE last_dispatched_at IS NOT NULL"
         " UNION ALL SELECT 'jobResulted', id, executing_machine_id, NULL, service, "
         "json_build_object('targetFn', target_fn, 'resultType', result_type, "
         "'functionExecutionTime', function_execution_time_ms)::text, resulted_at FROM " +
         jobs_source + " WHERE status = 'success'";
}

std::string stored_events(const std::string& where, const std::string& limit) {
  return "SELECT type, job_id, machine_id, deployment_id, service, meta::text, "
         "created_at "
         "FROM (SELECT * FROM events WHERE " +
         where + " ORDER BY created_at DESC " + limit + ") stored";
}

/// The resource events as entries of the log (resourceScheduled, resourceSynced, ...):
/// derived from their own table when the log is read, so they cost the hot path nothing.
std::string resource_entries(const std::string& where, const std::string& limit) {
  return "SELECT 'resource' || initcap(type), job_id, NULL, NULL, 'resources.' || kind, "
         "json_build_object('kind', kind, 'id', object_id, 'state', state, "
         "'previousState', previous_state, 'attempt', attempt, 'message', message, "
         "'seq', seq)::text, at "
         "FROM (SELECT * FROM resource_events WHERE " +
         where + " ORDER BY seq DESC " + limit + ") resource_entries";
}

} // namespace

std::vector<event_record> activity(pqxx::transaction_base& txn,
                                   const activity_query& query) {
  auto cluster = "cluster_id = " + text(txn, query.cluster_id);
  auto limit = "LIMIT " + std::to_string(query.limit);
  std::string union_sql;
  if (!query.job_id.empty()) {
    auto job = " AND job_id = " + text(txn, query.job_id);
    union_sql = "WITH the_job AS (SELECT * FROM jobs WHERE " + cluster +
                " AND id = " + text(txn, query.job_id) + ") " +
                derived_events("the_job") + " UNION ALL " +
                stored_events(cluster + job, "") + " UNION ALL " +
                resource_entries(cluster + job, "");
    limit.clear();
  } else if (!query.deployment_id.empty()) {
    // Jobs do not record a deployment; the deployment's activity is its stored events.
    union_sql = stored_events(
        cluster + " AND deployment_id = " + text(txn, query.deployment_id), limit);
  } else {
    union_sql = "WITH recent AS (SELECT * FROM jobs WHERE " + cluster +
                " ORDER BY created_at DESC " + limit + ") " + derived_events("recent") +
                " UNION ALL " + stored_events(cluster, limit) + " UNION ALL " +
                resource_entries(cluster, limit);
  }
  auto rows = txn.exec(
      "SELECT type, job_id, machine_id, deployment_id, service, meta, " + epoch_ms("at") +
      " FROM (" + union_sql +
      ") AS entries (type, job_id, machine_id, deployment_id, service, meta, at) "
      "ORDER BY at DESC, type " +
      limit);
  std::vector<event_record> result;
  result.reserve(rows.size());
  for (const auto& row : rows)
    result.push_back(event_record{query.cluster_id, row[0].as<std::string>(),
                                  field_text(row[1]), field_text(row[2]),
                                  field_text(row[3]), field_text(row[4]),
                                  field_text(row[5]), row[6].as<timestamp_ms>()});
  return result;
}

function_metrics service_metrics(pqxx::transaction_base& txn,
                                 const metrics_query& query) {
  auto scope = "cluster_id = " + text(txn, query.cluster_id) +
               " AND service = " + text(txn, query.service);
  function_metrics metrics;
  auto summary = txn.exec(
      "SELECT target_fn, result_type, count(*), "
      "coalesce(round(avg(function_execution_time_ms), 2), 0)::double precision, "
      "coalesce(min(function_execution_time_ms), 0)::double precision, "
      "coalesce(max(function_execution_time_ms), 0)::double precision "
      "FROM jobs WHERE " +
      scope +
      " AND created_at > now() - interval '24 hours' AND status = 'success' "
      "GROUP BY target_fn, result_type ORDER BY target_fn, result_type");
  for (const auto& row : summary) {
    function_summary s;
    s.target_fn = row[0].as<std::string>();
    parse(field_text(row[1]), s.result_type);
    s.count = row[2].as<std::int64_t>();
    s.avg_execution_time = row[3].as<double>();
    s.min_execution_time = row[4].as<double>();
    s.max_execution_time = row[5].as<double>();
    metrics.summary.push_back(std::move(s));
  }
  auto bins = txn.exec(
      "WITH resulted AS ("
      " SELECT date_trunc('minute', resulted_at) AS bin, "
      " coalesce(avg(function_execution_time_ms), 0)::double precision AS avg_time, "
      " count(*) AS resulted, count(*) FILTER (WHERE result_type = 'rejection') AS "
      "rejections "
      " FROM jobs WHERE " +
      scope +
      " AND created_at > now() - interval '2 hours' AND status = 'success' "
      " AND resulted_at > now() - interval '1 hour' GROUP BY 1), "
      "stalled AS ("
      " SELECT date_trunc('minute', created_at) AS bin, count(*) AS stalled FROM events "
      "WHERE " +
      scope +
      " AND type = 'jobStalled' AND created_at > now() - interval '1 hour' GROUP BY 1) "
      "SELECT " +
      epoch_ms("coalesce(r.bin, s.bin)") +
      ", coalesce(r.avg_time, 0), coalesce(r.resulted, 0), coalesce(s.stalled, 0), "
      "coalesce(r.rejections, 0) FROM resulted r FULL OUTER JOIN stalled s ON r.bin = "
      "s.bin "
      "ORDER BY 1");
  for (const auto& row : bins)
    metrics.timeseries.push_back(timeseries_bin{
        row[0].as<timestamp_ms>(), query.service, row[1].as<double>(),
        row[2].as<std::int64_t>(), row[3].as<std::int64_t>(), row[4].as<std::int64_t>()});
  return metrics;
}

std::int64_t prune_events(pqxx::transaction_base& txn, std::int32_t hours) {
  auto cutoff = "now() - interval '" + std::to_string(hours) + " hours'";
  auto events = txn.exec("DELETE FROM events WHERE created_at < " + cutoff);
  auto client = txn.exec("DELETE FROM client_events WHERE occurred_at < " + cutoff);
  return static_cast<std::int64_t>(events.affected_rows() + client.affected_rows());
}

std::int64_t prune_machines(pqxx::transaction_base& txn, std::int32_t hours) {
  auto rows = txn.exec("DELETE FROM machines WHERE last_ping_at < now() - interval '" +
                       std::to_string(hours) + " hours'");
  return static_cast<std::int64_t>(rows.affected_rows());
}

} // namespace diffplane::persistence::sql
