#include "persistence/sql_jobs.hpp"

#include "persistence/iso8601.hpp"
#include "persistence/prepared.hpp"
#include "persistence/sql_arrays.hpp"
#include "persistence/sql_values.hpp"

#include <chrono>
#include <future>
#include <optional>

namespace diffplane::persistence::sql {

namespace {

/// The states a restart loads; a job in any other state has left live_jobs.
const std::string live_status_condition = "status IN ('pending', 'running', 'stalled')";

/// The columns job_of reads, each prefixed with `table` ("j.") when given.
std::string job_columns(const std::string& table = {}) {
  std::string columns;
  for (const char* name : {"cluster_id", "id", "service", "target_fn", "target_args",
                           "cache_key", "max_attempts", "timeout_seconds",
                           "predictive_retries_on_rejection", "background"})
    columns.append(table).append(name).append(", ");
  columns += epoch_ms(table + "created_at");
  for (const char* name :
       {"status", "result_type", "result", "attempts_used", "executing_machine_id"})
    columns.append(", ").append(table).append(name);
  columns += ", coalesce(" + table + "function_execution_time_ms, -1), " +
             epoch_ms(table + "last_dispatched_at") + ", " +
             epoch_ms(table + "resulted_at") + ", " + table + "revision";
  return columns;
}

job_status status_of(const pqxx::field& f) {
  job_status s = job_status::pending;
  parse(f.c_str(), s);
  return s;
}

result_kind result_type_of(const pqxx::field& f) {
  result_kind k = result_kind::none;
  if (!f.is_null())
    parse(f.c_str(), k);
  return k;
}

job_record job_of(const pqxx::row& row) {
  job_record j;
  j.cluster_id = row[0].as<std::string>();
  j.id = row[1].as<std::string>();
  j.service = row[2].as<std::string>();
  j.target_fn = row[3].as<std::string>();
  j.target_args = row[4].as<std::string>();
  j.cache_key = field_text(row[5]);
  j.max_attempts = row[6].as<std::int32_t>();
  j.timeout_seconds = row[7].as<std::int32_t>();
  j.predictive_retries_on_rejection = row[8].as<bool>();
  j.background = row[9].as<bool>();
  j.created_at = row[10].as<timestamp_ms>();
  j.status = status_of(row[11]);
  j.result_type = result_type_of(row[12]);
  j.result = field_text(row[13]);
  j.attempts_used = row[14].as<std::int32_t>();
  j.executing_machine_id = field_text(row[15]);
  j.function_execution_time_ms = row[16].as<std::int32_t>();
  j.last_dispatched_at = row[17].as<timestamp_ms>();
  j.resulted_at = row[18].as<timestamp_ms>();
  j.revision = row[19].as<std::int64_t>();
  return j;
}

/// Inserts jobs whose ids a caller chose (and their live_jobs rows), skipping those that
/// exist: ON CONFLICT DO NOTHING, which looks every row's key up before inserting it.
void insert_or_skip_jobs(pqxx::transaction_base& txn,
                         const std::vector<const job_record*>& rows,
                         std::unordered_set<std::string>& inserted) {
  if (rows.empty())
    return;
  array_literal cluster_ids, ids, services, fns, args, cache_keys, max_attempts, timeouts,
      predictive, background, created, statuses, result_types, results, attempts,
      machines, execution_ms, dispatched, resulted, revisions;
  for (const auto* j : rows) {
    cluster_ids.add_text(j->cluster_id);
    ids.add_text(j->id);
    services.add_text(j->service);
    fns.add_text(j->target_fn);
    args.add_text(j->target_args);
    cache_keys.add_text_or_null(j->cache_key);
    max_attempts.add_int(j->max_attempts);
    timeouts.add_int(j->timeout_seconds);
    predictive.add_bool(j->predictive_retries_on_rejection);
    background.add_bool(j->background);
    created.add_int(j->created_at);
    statuses.add_text(to_string(j->status));
    result_types.add_text_or_null(to_string(j->result_type));
    results.add_text_or_null(j->result);
    attempts.add_int(j->attempts_used);
    machines.add_text_or_null(j->executing_machine_id);
    execution_ms.add_int_or_null(j->function_execution_time_ms);
    dispatched.add_int(j->last_dispatched_at);
    resulted.add_int(j->resulted_at);
    revisions.add_int(j->revision);
  }
  static const std::string query =
      "INSERT INTO jobs (cluster_id, id, service, target_fn, target_args, cache_key, "
      "max_attempts, timeout_seconds, predictive_retries_on_rejection, background, "
      "created_at, status, result_type, result, attempts_used, executing_machine_id, "
      "function_execution_time_ms, last_dispatched_at, resulted_at, revision) "
      "SELECT c, i, s, f, a, k, m, t, p, b, coalesce(" +
      timestamp_of_ms("cr") + ", now()), st, rt, r, au, em, fet, " +
      timestamp_of_ms("ld") + ", " + timestamp_of_ms("rd") +
      ", rev FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
      "$6::text[], $7::integer[], $8::integer[], $9::boolean[], $10::boolean[], "
      "$11::bigint[], $12::text[], $13::text[], $14::text[], $15::integer[], "
      "$16::text[], $17::integer[], $18::bigint[], $19::bigint[], $20::bigint[]) "
      "AS v(c, i, s, f, a, k, m, t, p, b, cr, st, rt, r, au, em, fet, ld, rd, rev) "
      "ON CONFLICT (cluster_id, id) DO NOTHING "
      "RETURNING cluster_id, id, created_at, status";
  // One statement, so a job is never in jobs without being in live_jobs.
  static const std::string query_with_live =
      "WITH inserted AS (" + query +
      "), live AS (INSERT INTO live_jobs (cluster_id, created_at, id) "
      "SELECT cluster_id, created_at, id FROM inserted WHERE " +
      live_status_condition + ") SELECT cluster_id, id FROM inserted";
  auto result = exec_prepared(
      txn, "diffplane_insert_or_skip_jobs", query_with_live, cluster_ids.take(),
      ids.take(), services.take(), fns.take(), args.take(), cache_keys.take(),
      max_attempts.take(), timeouts.take(), predictive.take(), background.take(),
      created.take(), statuses.take(), result_types.take(), results.take(),
      attempts.take(), machines.take(), execution_ms.take(), dispatched.take(),
      resulted.take(), revisions.take());
  for (const auto& row : result)
    inserted.insert(job_key(row[0].as<std::string>(), row[1].as<std::string>()));
}

timestamp_ms now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A timestamptz as COPY reads it, or nothing for 0 (NULL).
std::optional<std::string> copy_timestamp(timestamp_ms ms) {
  if (ms == 0)
    return std::nullopt;
  return format_iso8601(ms);
}

/// A text value as COPY reads it: nullptr is NULL, our spelling of "none" is empty.
const char* copy_text_or_null(const std::string& value) {
  return value.empty() ? nullptr : value.c_str();
}

/// Inserts jobs whose ids the server generated with COPY, and the live ones into
/// live_jobs: no statement to plan, no key to look up first, and Postgres writes the rows
/// of a page with one WAL record. Such an id cannot exist yet; if it did, COPY fails and
/// takes the transaction with it.
void copy_new_jobs(pqxx::transaction_base& txn,
                   const std::vector<const job_record*>& rows,
                   std::unordered_set<std::string>& inserted) {
  if (rows.empty())
    return;
  static const std::vector<std::string> columns{"cluster_id",
                                                "id",
                                                "service",
                                                "target_fn",
                                                "target_args",
                                                "cache_key",
                                                "max_attempts",
                                                "timeout_seconds",
                                                "predictive_retries_on_rejection",
                                                "background",
                                                "created_at",
                                                "status",
                                                "result_type",
                                                "result",
                                                "attempts_used",
                                                "executing_machine_id",
                                                "function_execution_time_ms",
                                                "last_dispatched_at",
                                                "resulted_at",
                                                "revision"};
  // The live rows with their creation times, which must equal those written to jobs:
  // the final update finds a job's live_jobs row by it.
  std::vector<std::pair<const job_record*, std::string>> live;
  {
    pqxx::stream_to jobs{txn, "jobs", columns};
    for (const auto* j : rows) {
      // The INSERT's way of saying "now" for a job without a creation time.
      auto created = *copy_timestamp(j->created_at == 0 ? now_ms() : j->created_at);
      auto dispatched = copy_timestamp(j->last_dispatched_at);
      auto resulted = copy_timestamp(j->resulted_at);
      std::string status{to_string(j->status)};
      std::string result_type{to_string(j->result_type)};
      std::string fet = j->function_execution_time_ms < 0
                            ? std::string{}
                            : std::to_string(j->function_execution_time_ms);
      jobs << std::make_tuple(
          j->cluster_id.c_str(), j->id.c_str(), j->service.c_str(), j->target_fn.c_str(),
          j->target_args.c_str(), copy_text_or_null(j->cache_key), j->max_attempts,
          j->timeout_seconds, j->predictive_retries_on_rejection, j->background,
          created.c_str(), status.c_str(), copy_text_or_null(result_type),
          j->result_type == result_kind::none ? nullptr : j->result.c_str(),
          j->attempts_used, copy_text_or_null(j->executing_machine_id),
          copy_text_or_null(fet), dispatched ? dispatched->c_str() : nullptr,
          resulted ? resulted->c_str() : nullptr, j->revision);
      if (j->status == job_status::pending || j->status == job_status::running ||
          j->status == job_status::stalled)
        live.emplace_back(j, std::move(created));
    }
    jobs.complete();
  }
  if (!live.empty()) {
    static const std::vector<std::string> live_columns{"cluster_id", "created_at", "id"};
    pqxx::stream_to stream{txn, "live_jobs", live_columns};
    for (const auto& [j, created] : live)
      stream << std::make_tuple(j->cluster_id.c_str(), created.c_str(), j->id.c_str());
    stream.complete();
  }
  for (const auto* j : rows)
    inserted.insert(job_key(j->cluster_id, j->id));
}

} // namespace

std::unordered_set<std::string> insert_jobs(pqxx::transaction_base& txn,
                                            const std::vector<const job_record*>& rows) {
  std::vector<const job_record*> generated;
  std::vector<const job_record*> chosen;
  for (const auto* j : rows)
    (j->id_generated ? generated : chosen).push_back(j);
  std::unordered_set<std::string> inserted;
  copy_new_jobs(txn, generated, inserted);
  insert_or_skip_jobs(txn, chosen, inserted);
  return inserted;
}

void update_job_states(pqxx::transaction_base& txn,
                       const std::vector<const job_state_write*>& rows) {
  if (rows.empty())
    return;
  array_literal cluster_ids, ids, statuses, result_types, results, attempts, machines,
      execution_ms, dispatched, resulted, revisions;
  for (const auto* w : rows) {
    cluster_ids.add_text(w->cluster_id);
    ids.add_text(w->id);
    statuses.add_text(to_string(w->status));
    result_types.add_text_or_null(to_string(w->result_type));
    // A result is stored as sent, the empty string included, once there is one.
    if (w->result_type == result_kind::none)
      results.add_null();
    else
      results.add_text(w->result);
    attempts.add_int(w->attempts_used);
    machines.add_text_or_null(w->executing_machine_id);
    execution_ms.add_int_or_null(w->function_execution_time_ms);
    dispatched.add_int(w->last_dispatched_at);
    resulted.add_int(w->resulted_at);
    revisions.add_int(w->revision);
  }
  static const std::string query =
      "UPDATE jobs AS j SET status = v.status, result_type = v.result_type, "
      "result = v.result, attempts_used = v.attempts_used, "
      "executing_machine_id = v.machine, function_execution_time_ms = v.fet, "
      "last_dispatched_at = " +
      timestamp_of_ms("v.dispatched") +
      ", resulted_at = " + timestamp_of_ms("v.resulted") +
      ", revision = v.revision "
      "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
      "$6::integer[], $7::text[], $8::integer[], $9::bigint[], $10::bigint[], "
      "$11::bigint[]) AS v(cluster_id, id, status, result_type, result, attempts_used, "
      "machine, fet, dispatched, resulted, revision) "
      "WHERE j.cluster_id = v.cluster_id AND j.id = v.id AND j.revision < v.revision "
      "RETURNING j.cluster_id, j.created_at, j.id, j.status";
  // A job whose final state lands leaves live_jobs in the same statement.
  static const std::string query_with_live =
      "WITH updated AS (" + query +
      ") DELETE FROM live_jobs AS l USING updated AS u WHERE NOT (u." +
      live_status_condition +
      ") AND l.cluster_id = u.cluster_id AND l.created_at = u.created_at AND l.id = u.id";
  exec_prepared(txn, "diffplane_update_job_states", query_with_live, cluster_ids.take(),
                ids.take(), statuses.take(), result_types.take(), results.take(),
                attempts.take(), machines.take(), execution_ms.take(), dispatched.take(),
                resulted.take(), revisions.take());
}

std::vector<job_record> load_live_jobs(pqxx::transaction_base& txn,
                                       const std::string& cluster_id,
                                       long look_up_below) {
  const auto cluster = text(txn, cluster_id);
  // Pick the join ourselves: the planner's choice, a hash join over every row of jobs
  // and a sort spilling to disk, took twice as long for a million live jobs and grows
  // with the table's history. A few live jobs: look each one up (a restart then reads
  // no more than they are, however old the oldest one is). Many: walk live_jobs and
  // jobs_latest side by side in creation order from the oldest live job, which reads
  // the jobs finished since then too, but sequentially and without a sort.
  const auto live =
      txn.exec("SELECT count(*) FROM live_jobs WHERE cluster_id = " + cluster)[0][0]
          .as<long>();
  if (live == 0)
    return {};
  txn.exec(live < look_up_below
               ? "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"
               : "SET LOCAL enable_hashjoin = off; SET LOCAL enable_nestloop = off");
  // All rows are read: plan for that, not for a quick first slice (a cursor's default).
  txn.exec("SET LOCAL cursor_tuple_fraction = 1.0");
  // Read through a cursor, a slice at a time: one result of a million rows would hold
  // every value twice (libpq's copy and ours) at the peak of a restart.
  constexpr int rows_per_fetch = 10000;
  std::vector<job_record> result;
  result.reserve(static_cast<std::size_t>(live));
  {
    pqxx::icursorstream cursor{
        txn,
        "SELECT " + job_columns("j.") +
            " FROM live_jobs AS l JOIN jobs AS j ON j.cluster_id = l.cluster_id AND "
            "j.created_at = l.created_at AND j.id = l.id WHERE l.cluster_id = " +
            cluster + " AND j.cluster_id = " + cluster +
            " AND j.created_at >= (SELECT min(created_at) FROM live_jobs WHERE "
            "cluster_id = " +
            cluster + ") AND j." + live_status_condition + " ORDER BY l.created_at, l.id",
        "live_jobs", rows_per_fetch};
    // Converting a slice takes about as long as Postgres takes to produce the next one,
    // so the two overlap: a helper thread converts slice N while this one fetches N+1
    // (one slice at a time, so `result` has one writer).
    std::future<void> converting;
    pqxx::result rows;
    while (cursor >> rows) {
      if (converting.valid())
        converting.get();
      converting = std::async(std::launch::async, [&result, slice = rows] {
        for (const auto& row : slice)
          result.push_back(job_of(row));
      });
    }
    if (converting.valid())
      converting.get();
  }
  txn.exec("RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_nestloop; "
           "RESET cursor_tuple_fraction");
  return result;
}

std::vector<job_record> fetch_job(pqxx::transaction_base& txn,
                                  const std::string& cluster_id, const std::string& id) {
  std::vector<job_record> result;
  for (const auto& row :
       txn.exec("SELECT " + job_columns() + " FROM jobs WHERE cluster_id = " +
                text(txn, cluster_id) + " AND id = " + text(txn, id)))
    result.push_back(job_of(row));
  return result;
}

std::vector<job_status_row> fetch_job_statuses(pqxx::transaction_base& txn,
                                               const std::string& cluster_id,
                                               const std::vector<std::string>& ids) {
  std::vector<job_status_row> result;
  if (ids.empty())
    return result;
  array_literal id_array;
  for (const auto& id : ids)
    id_array.add_text(id);
  auto rows = txn.exec_params("SELECT id, status, result_type, result FROM jobs "
                              "WHERE cluster_id = $1 AND id = ANY($2::text[])",
                              cluster_id, id_array.take());
  result.reserve(rows.size());
  for (const auto& row : rows)
    result.push_back(job_status_row{row[0].as<std::string>(), status_of(row[1]),
                                    result_type_of(row[2]), field_text(row[3])});
  return result;
}

std::vector<job_summary> latest_jobs(pqxx::transaction_base& txn,
                                     const std::string& cluster_id,
                                     const std::string& service, int limit) {
  std::string query = "SELECT id, target_fn, service, status, result_type, " +
                      epoch_ms("created_at") +
                      ", coalesce(function_execution_time_ms, -1) FROM jobs "
                      "WHERE cluster_id = " +
                      text(txn, cluster_id);
  if (!service.empty())
    query += " AND service = " + text(txn, service);
  query += " ORDER BY created_at DESC LIMIT " + std::to_string(limit);
  std::vector<job_summary> result;
  for (const auto& row : txn.exec(query))
    result.push_back(job_summary{row[0].as<std::string>(), row[1].as<std::string>(),
                                 row[2].as<std::string>(), status_of(row[3]),
                                 result_type_of(row[4]), row[5].as<timestamp_ms>(),
                                 row[6].as<std::int32_t>()});
  return result;
}

std::vector<cache_entry_record> load_cache_entries(pqxx::transaction_base& txn,
                                                   const std::string& cluster_id,
                                                   timestamp_ms since) {
  auto rows = txn.exec(
      "SELECT DISTINCT ON (service, target_fn, cache_key) service, target_fn, cache_key, "
      "id, " +
      epoch_ms("resulted_at") + " FROM jobs WHERE cluster_id = " + text(txn, cluster_id) +
      " AND cache_key IS NOT NULL AND result_type = 'resolution' AND resulted_at > " +
      timestamp(since) +
      // Bounds the scan of jobs_latest: a cached job resolves within days of its
      // creation.
      " AND created_at > " + timestamp(since) +
      " - interval '30 days'"
      " ORDER BY service, target_fn, cache_key, resulted_at DESC");
  std::vector<cache_entry_record> result;
  for (const auto& row : rows)
    result.push_back(cache_entry_record{
        row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
        row[3].as<std::string>(), row[4].as<timestamp_ms>()});
  return result;
}

} // namespace diffplane::persistence::sql
