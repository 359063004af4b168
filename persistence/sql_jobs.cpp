#include "persistence/sql_jobs.hpp"

#include "persistence/prepared.hpp"
#include "persistence/sql_arrays.hpp"
#include "persistence/sql_leases.hpp"
#include "persistence/sql_resources.hpp"
#include "persistence/sql_values.hpp"

#include <algorithm>
#include <array>
#include <future>

namespace diffplane::persistence::sql {

namespace {

/// The states a restart loads; a job in any other state has left live_jobs.
const std::string live_status_condition = "status IN ('pending', 'running', 'stalled')";

/// epoch_ms, the same milliseconds (rounded half up from the exact microseconds) in a
/// third of the time: extract() computes in numeric, date_part() in double, whose
/// error at today's epochs is far below half a microsecond. A million rows of the load
/// spent 0.3 s of Postgres's time in extract() alone.
std::string load_epoch_ms(std::string_view column) {
  return "coalesce((round(date_part('epoch', " + std::string{column} +
         ") * 1000000)::bigint + 500) / 1000, 0)";
}

/// The columns job_of reads, each prefixed with `table` ("j.") when given, the times
/// converted by `to_ms`.
std::string job_columns(const std::string& table = {},
                        std::string (*to_ms)(std::string_view) = epoch_ms) {
  std::string columns;
  for (const char* name : {"cluster_id", "id", "service", "target_fn", "target_args",
                           "cache_key", "max_attempts", "timeout_seconds",
                           "predictive_retries_on_rejection", "background"})
    columns.append(table).append(name).append(", ");
  columns += to_ms(table + "created_at");
  for (const char* name :
       {"status", "result_type", "result", "attempts_used", "executing_machine_id"})
    columns.append(", ").append(table).append(name);
  columns += ", coalesce(" + table + "function_execution_time_ms, -1), " +
             to_ms(table + "last_dispatched_at") + ", " + to_ms(table + "resulted_at") +
             ", " + table + "revision";
  return columns;
}

/// The columns of a page of the load.
std::string load_job_columns(const std::string& table) {
  return job_columns(table, load_epoch_ms);
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

/// Reads the fields of one row in order, with one field for the whole row: row[i] makes a
/// field per column, each holding a copy of the result (two shared pointers), and
/// as<std::string> measures the text that libpq already measured. The load of a million
/// jobs spent a fifth of its reading thread there.
class field_reader {
public:
  explicit field_reader(const pqxx::row& row) : field_{row.begin()} {}

  std::string text() { return next().is_null() ? std::string{} : string_of(field_); }
  template <class T> T as() { return next().as<T>(); }
  const pqxx::field& field() { return next(); }

private:
  static std::string string_of(const pqxx::field& f) { return {f.c_str(), f.size()}; }

  const pqxx::field& next() {
    if (started_)
      ++field_;
    started_ = true;
    return field_;
  }

  pqxx::row::const_iterator field_;
  bool started_ = false;
};

job_record job_of(const pqxx::row& row) {
  field_reader f{row};
  job_record j;
  j.cluster_id = f.text();
  j.id = f.text();
  j.service = f.text();
  j.target_fn = f.text();
  j.target_args = f.text();
  j.cache_key = f.text();
  j.max_attempts = f.as<std::int32_t>();
  j.timeout_seconds = f.as<std::int32_t>();
  j.predictive_retries_on_rejection = f.as<bool>();
  j.background = f.as<bool>();
  j.created_at = f.as<timestamp_ms>();
  j.status = status_of(f.field());
  j.result_type = result_type_of(f.field());
  j.result = f.text();
  j.attempts_used = f.as<std::int32_t>();
  j.executing_machine_id = f.text();
  j.function_execution_time_ms = f.as<std::int32_t>();
  j.last_dispatched_at = f.as<timestamp_ms>();
  j.resulted_at = f.as<timestamp_ms>();
  j.revision = f.as<std::int64_t>();
  return j;
}

/// The columns of a job row, in the order job_row_arrays passes them.
const char* const job_row_columns =
    "cluster_id, id, service, target_fn, target_args, cache_key, max_attempts, "
    "timeout_seconds, predictive_retries_on_rejection, background, created_at, status, "
    "result_type, result, attempts_used, executing_machine_id, "
    "function_execution_time_ms, last_dispatched_at, resulted_at, revision";

/// A job's state as one array parameter per column, from a job_record or a
/// job_state_write (both carry it under the same names).
class state_arrays {
public:
  static constexpr int parameters = 9;

  template <class Row> void add(const Row& row) {
    statuses_.add_text(to_string(row.status));
    result_types_.add_text_or_null(to_string(row.result_type));
    // A result is stored as sent, the empty string included, once there is one.
    if (row.result_type == result_kind::none)
      results_.add_null();
    else
      results_.add_text(row.result);
    attempts_.add_int(row.attempts_used);
    machines_.add_text_or_null(row.executing_machine_id);
    execution_ms_.add_int_or_null(row.function_execution_time_ms);
    dispatched_.add_int(row.last_dispatched_at);
    resulted_.add_int(row.resulted_at);
    revisions_.add_int(row.revision);
  }

  void take_into(std::vector<std::string>& params) {
    for (auto* array : {&statuses_, &result_types_, &results_, &attempts_, &machines_,
                        &execution_ms_, &dispatched_, &resulted_, &revisions_})
      params.push_back(array->take());
  }

  /// The SQL types of the parameters, in order.
  static constexpr std::array<const char*, parameters> types{
      "text", "text", "text", "integer", "text", "integer", "bigint", "bigint", "bigint"};

private:
  array_literal statuses_, result_types_, results_, attempts_, machines_, execution_ms_,
      dispatched_, resulted_, revisions_;
};

/// Job rows as one array parameter per column (sql_arrays.hpp says why).
class job_row_arrays {
public:
  static constexpr int parameters = 11 + state_arrays::parameters;

  void add(const job_record& j) {
    cluster_ids_.add_text(j.cluster_id);
    ids_.add_text(j.id);
    services_.add_text(j.service);
    fns_.add_text(j.target_fn);
    args_.add_text(j.target_args);
    cache_keys_.add_text_or_null(j.cache_key);
    max_attempts_.add_int(j.max_attempts);
    timeouts_.add_int(j.timeout_seconds);
    predictive_.add_bool(j.predictive_retries_on_rejection);
    background_.add_bool(j.background);
    created_.add_int(j.created_at);
    state_.add(j);
  }

  void take_into(std::vector<std::string>& params) {
    for (auto* array :
         {&cluster_ids_, &ids_, &services_, &fns_, &args_, &cache_keys_, &max_attempts_,
          &timeouts_, &predictive_, &background_, &created_})
      params.push_back(array->take());
    state_.take_into(params);
  }

  /// INSERT of the rows passed as parameters first ... first + 19; a row without a
  /// creation time is created now.
  static std::string insert(int first) {
    return std::string{"INSERT INTO jobs ("} + job_row_columns +
           ") SELECT c, i, s, f, a, k, m, t, p, b, coalesce(" + timestamp_of_ms("cr") +
           ", now()), st, rt, r, au, em, fet, " + timestamp_of_ms("ld") + ", " +
           timestamp_of_ms("rd") + ", rev FROM unnest(" +
           array_parameters(first, std::array{"text", "text", "text", "text", "text",
                                              "text", "integer", "integer", "boolean",
                                              "boolean", "bigint"}) +
           ", " + array_parameters(first + 11, state_arrays::types) +
           ") AS v(c, i, s, f, a, k, m, t, p, b, cr, st, rt, r, au, em, fet, ld, rd, "
           "rev)";
  }

private:
  array_literal cluster_ids_, ids_, services_, fns_, args_, cache_keys_, max_attempts_,
      timeouts_, predictive_, background_, created_;
  state_arrays state_;
};

/// Job state writes as one array parameter per column.
class job_state_arrays {
public:
  void add(const job_state_write& w) {
    cluster_ids_.add_text(w.cluster_id);
    ids_.add_text(w.id);
    state_.add(w);
  }

  void take_into(std::vector<std::string>& params) {
    params.push_back(cluster_ids_.take());
    params.push_back(ids_.take());
    state_.take_into(params);
  }

  static constexpr int parameters = 2 + state_arrays::parameters;

  /// UPDATE by the writes passed as parameters first ... first + 10, each only over an
  /// older revision and where `condition` holds (none: empty); returns the key and new
  /// status of every row it changed.
  static std::string update(int first, const std::string& condition = {}) {
    return "UPDATE jobs AS j SET status = v.status, result_type = v.result_type, "
           "result = v.result, attempts_used = v.attempts_used, "
           "executing_machine_id = v.machine, function_execution_time_ms = v.fet, "
           "last_dispatched_at = " +
           timestamp_of_ms("v.dispatched") +
           ", resulted_at = " + timestamp_of_ms("v.resulted") +
           ", revision = v.revision FROM unnest(" +
           array_parameters(first, std::array{"text", "text"}) + ", " +
           array_parameters(first + 2, state_arrays::types) +
           ") AS v(cluster_id, id, status, result_type, result, attempts_used, machine, "
           "fet, dispatched, resulted, revision) "
           "WHERE j.cluster_id = v.cluster_id AND j.id = v.id AND j.revision < "
           "v.revision " +
           (condition.empty() ? "" : "AND " + condition + " ") +
           "RETURNING j.cluster_id, j.created_at, j.id, j.status";
  }

private:
  array_literal cluster_ids_, ids_;
  state_arrays state_;
};

} // namespace

std::unordered_set<std::string>
insert_or_skip_jobs(pqxx::transaction_base& txn,
                    const std::vector<const job_record*>& rows) {
  std::unordered_set<std::string> inserted;
  if (rows.empty())
    return inserted;
  job_row_arrays arrays;
  for (const auto* j : rows)
    arrays.add(*j);
  std::vector<std::string> params;
  arrays.take_into(params);
  static const std::string query =
      job_row_arrays::insert(1) +
      " ON CONFLICT (cluster_id, id) DO NOTHING RETURNING cluster_id, id";
  auto result = exec_prepared(txn, "diffplane_insert_or_skip_jobs", query,
                              pqxx::prepare::make_dynamic_params(params));
  for (const auto& row : result)
    inserted.insert(job_key(row[0].as<std::string>(), row[1].as<std::string>()));
  return inserted;
}

namespace {

/// The parameters of write_jobs: the new rows', then the state writes'.
std::vector<std::string>
write_jobs_parameters(const std::vector<const job_record*>& new_jobs,
                      const std::vector<const job_state_write*>& states) {
  job_row_arrays rows;
  for (const auto* j : new_jobs)
    rows.add(*j);
  job_state_arrays writes;
  for (const auto* w : states)
    writes.add(*w);
  std::vector<std::string> params;
  rows.take_into(params);
  writes.take_into(params);
  return params;
}

/// write_jobs's statement; `with` comes first among its WITH items, and `condition`
/// (if any) gates each write. A job whose final state lands leaves live_jobs (if it was
/// moved there) in the same statement.
///
/// Only a job created before its cluster's live_jobs_before can be in live_jobs (a move
/// takes the jobs created before the boundary it sets, and the boundary only advances),
/// and most jobs finish long before they are moved: the newer ones skip the key lookup
/// in live_jobs. The latest boundary of the batch's clusters bounds them all (one
/// lookup per statement, an InitPlan).
std::string write_jobs_statement(const std::string& with, const std::string& condition,
                                 const std::string& answer) {
  auto gated = [&](const char* where) {
    return condition.empty() ? std::string{} : std::string{where} + condition;
  };
  const int writes = 1 + job_row_arrays::parameters;
  return "WITH " + with + (with.empty() ? "" : ", ") + "inserted AS (" +
         job_row_arrays::insert(1) + gated(" WHERE ") + "), updated AS (" +
         job_state_arrays::update(writes, condition) +
         "), finished AS (DELETE FROM live_jobs AS l USING updated AS u WHERE NOT (u." +
         live_status_condition +
         ") AND u.created_at < (SELECT max(live_jobs_before) FROM clusters WHERE id = "
         "ANY(" +
         array_parameters(writes, std::array{"text"}) +
         ")) AND l.cluster_id = u.cluster_id AND l.created_at = u.created_at AND "
         "l.id = u.id) " +
         answer;
}

} // namespace

void write_jobs(pqxx::transaction_base& txn,
                const std::vector<const job_record*>& new_jobs,
                const std::vector<const job_state_write*>& states) {
  if (new_jobs.empty() && states.empty())
    return;
  static const std::string query = write_jobs_statement("", "", "SELECT 1");
  exec_prepared(
      txn, "diffplane_write_jobs", query,
      pqxx::prepare::make_dynamic_params(write_jobs_parameters(new_jobs, states)));
}

statement_call fenced_write_jobs_call(const std::vector<const job_record*>& new_jobs,
                                      const std::vector<const job_state_write*>& states,
                                      const lease_gate& gate) {
  static const std::string query = [] {
    auto check =
        lease_gate_check(1 + job_row_arrays::parameters + job_state_arrays::parameters);
    return write_jobs_statement(check.cte, check.open, "SELECT cluster_id FROM held");
  }();
  auto params = write_jobs_parameters(new_jobs, states);
  add_lease_gate_parameters(params, gate);
  return {"diffplane_write_jobs_fenced", query, std::move(params)};
}

std::vector<std::string> write_jobs(pqxx::transaction_base& txn,
                                    const std::vector<const job_record*>& new_jobs,
                                    const std::vector<const job_state_write*>& states,
                                    const lease_gate& gate) {
  auto call = fenced_write_jobs_call(new_jobs, states, gate);
  auto rows = exec_prepared(txn, call.name, call.text,
                            pqxx::prepare::make_dynamic_params(call.params));
  std::vector<std::string> held;
  held.reserve(rows.size());
  for (const auto& row : rows)
    held.push_back(row[0].as<std::string>());
  return held;
}

void move_live_jobs(pqxx::transaction_base& txn, const live_jobs_move& move) {
  // The range starts where the previous move ended; a move that does not advance the
  // boundary (a clock set back) moves nothing.
  static const std::string query =
      "WITH since AS (SELECT live_jobs_before AS t FROM clusters WHERE id = $1), "
      "moved AS (INSERT INTO live_jobs (cluster_id, created_at, id) "
      "SELECT j.cluster_id, j.created_at, j.id FROM since, jobs AS j "
      "WHERE j.cluster_id = $1 AND j.created_at >= since.t AND j.created_at < " +
      timestamp_of_ms("$2::bigint") + " AND j." + live_status_condition +
      " ON CONFLICT DO NOTHING) "
      "UPDATE clusters SET live_jobs_before = " +
      timestamp_of_ms("$2::bigint") + " WHERE id = $1 AND live_jobs_before < " +
      timestamp_of_ms("$2::bigint");
  exec_prepared(txn, "diffplane_move_live_jobs", query, move.cluster_id,
                move.created_before);
}

namespace {

/// Reads the jobs `query` selects through a cursor, a slice at a time, appending them to
/// `result`: one result of a million rows would hold every value twice (libpq's copy
/// and ours) at the peak of a restart.
void read_jobs(pqxx::transaction_base& txn, const std::string& query, const char* name,
               std::vector<job_record>& result) {
  constexpr int rows_per_fetch = 10000;
  pqxx::icursorstream cursor{txn, query, name, rows_per_fetch};
  // Converting a slice takes about as long as Postgres takes to produce the next one, so
  // the two overlap: a helper thread converts slice N while this one fetches N+1 (one
  // slice at a time, so `result` has one writer).
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

} // namespace

timestamp_ms live_jobs_before(pqxx::transaction_base& txn,
                              const std::string& cluster_id) {
  // Rounded up: a job created at the rounded time must not fall before the boundary.
  auto rows = txn.exec("SELECT ceil(extract(epoch FROM live_jobs_before) * 1000)::bigint "
                       "FROM clusters WHERE id = " +
                       text(txn, cluster_id));
  return rows.empty() ? 0 : rows[0][0].as<timestamp_ms>();
}

std::vector<job_record> load_live_jobs(pqxx::transaction_base& txn,
                                       const std::string& cluster_id,
                                       long look_up_below) {
  const auto cluster = text(txn, cluster_id);
  // Each live job is read once, from live_jobs if created before the boundary, else from
  // jobs, whatever rows a bug or a hand might have added to live_jobs.
  const auto boundary =
      "(SELECT live_jobs_before FROM clusters WHERE id = " + cluster + ")";
  std::vector<job_record> result;
  // All rows are read: plan for that, not for a quick first slice (a cursor's default).
  txn.exec("SET LOCAL cursor_tuple_fraction = 1.0");
  // The live jobs moved to live_jobs (live_jobs_move), all created before the cluster's
  // live_jobs_before. Pick the join ourselves: the planner's choice, a hash join over
  // every row of jobs and a sort spilling to disk, took twice as long for a million live
  // jobs and grows with the table's history. A few live jobs: look each one up (a
  // restart then reads no more than they are, however old the oldest one is). Many:
  // walk live_jobs and jobs_latest side by side in creation order from the oldest live
  // job, which reads the jobs finished since then too, but sequentially and without a
  // sort.
  const auto moved =
      txn.exec("SELECT count(*) FROM live_jobs WHERE cluster_id = " + cluster)[0][0]
          .as<long>();
  if (moved > 0) {
    result.reserve(static_cast<std::size_t>(moved));
    txn.exec(moved < look_up_below
                 ? "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"
                 : "SET LOCAL enable_hashjoin = off; SET LOCAL enable_nestloop = off");
    read_jobs(
        txn,
        "SELECT " + job_columns("j.") +
            " FROM live_jobs AS l JOIN jobs AS j ON j.cluster_id = l.cluster_id AND "
            "j.created_at = l.created_at AND j.id = l.id WHERE l.cluster_id = " +
            cluster + " AND j.cluster_id = " + cluster +
            " AND j.created_at >= (SELECT min(created_at) FROM live_jobs WHERE "
            "cluster_id = " +
            cluster + ") AND l.created_at < " + boundary + " AND j." +
            live_status_condition + " ORDER BY l.created_at, l.id",
        "moved_live_jobs", result);
    txn.exec("RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_nestloop");
  }
  // The jobs created since: every one of them is read (by creation time, from
  // jobs_latest) and the live ones kept. They come after the moved ones in creation
  // order.
  read_jobs(txn,
            "SELECT " + job_columns() + " FROM jobs WHERE cluster_id = " + cluster +
                " AND created_at >= " + boundary + " AND " + live_status_condition +
                " ORDER BY created_at, id",
            "recent_live_jobs", result);
  txn.exec("RESET cursor_tuple_fraction");
  give_newest_work_args(txn, cluster_id, result);
  return result;
}

timestamp_ms jobs_created_before(pqxx::transaction_base& txn,
                                 const std::string& cluster_id) {
  // Floored, plus one: created_at has microseconds (rows seeded by hand), milliseconds
  // do not, and the newest job must fall before the result.
  auto rows = txn.exec("SELECT floor(extract(epoch FROM max(created_at)) * 1000)::bigint "
                       "+ 1 FROM jobs WHERE cluster_id = " +
                       text(txn, cluster_id));
  return rows.empty() || rows[0][0].is_null() ? 0 : rows[0][0].as<timestamp_ms>();
}

namespace {

/// From this many moved live jobs on, the load scans jobs by creation time rather than
/// looking each moved job up by its key (load_live_jobs chooses the same way).
constexpr long scan_from_moved = 100000;

} // namespace

std::vector<std::string> declare_live_jobs_cursors(pqxx::transaction_base& txn,
                                                   const std::string& cluster_id,
                                                   timestamp_ms load_before) {
  const auto cluster = text(txn, cluster_id);
  const auto boundary =
      "(SELECT live_jobs_before FROM clusters WHERE id = " + cluster + ")";
  const auto before = " AND created_at < " + timestamp_of_ms(std::to_string(load_before));
  // Whether few jobs were moved to live_jobs: counts no further than the threshold.
  const auto moved =
      txn.exec("SELECT count(*) FROM (SELECT 1 FROM live_jobs WHERE cluster_id = " +
               cluster + " LIMIT " + std::to_string(scan_from_moved) + ") AS l")[0][0]
          .as<long>();
  std::vector<std::string> names;
  // Each plan is made when its cursor is declared.
  if (moved >= scan_from_moved) {
    // Many: every live job of the cluster is in jobs from the oldest moved one on (those
    // created before live_jobs_before all have their row in live_jobs), so one walk of
    // jobs_latest in creation order finds them all, no join and no sort: the jobs
    // finished since the oldest live one are read too, but in order, as the merge join of
    // load_live_jobs reads them. Without sorts the planner cannot pick a sort of the
    // whole table over the index.
    txn.exec("SET LOCAL enable_sort = off");
    txn.exec("DECLARE live_jobs_all NO SCROLL CURSOR FOR SELECT " + load_job_columns("") +
             " FROM jobs WHERE cluster_id = " + cluster +
             " AND created_at >= (SELECT least(min(created_at), " + boundary +
             ") FROM live_jobs WHERE cluster_id = " + cluster + ")" + before + " AND " +
             live_status_condition + " ORDER BY created_at");
    txn.exec("RESET enable_sort");
    names.emplace_back("live_jobs_all");
    return names;
  }
  if (moved > 0) {
    // Few: each moved job is looked up by its key, however old the oldest one is.
    txn.exec("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off");
    txn.exec("DECLARE live_jobs_moved NO SCROLL CURSOR FOR SELECT " +
             load_job_columns("j.") +
             " FROM live_jobs AS l JOIN jobs AS j ON j.cluster_id = l.cluster_id AND "
             "j.created_at = l.created_at AND j.id = l.id WHERE l.cluster_id = " +
             cluster + " AND l.created_at < " + boundary + " AND j." +
             live_status_condition + " ORDER BY l.created_at, l.id");
    txn.exec("RESET enable_hashjoin; RESET enable_mergejoin");
    names.emplace_back("live_jobs_moved");
  }
  // Then the jobs created since the boundary, read by creation time.
  txn.exec("DECLARE live_jobs_recent NO SCROLL CURSOR FOR SELECT " +
           load_job_columns("") + " FROM jobs WHERE cluster_id = " + cluster +
           " AND created_at >= " + boundary + before + " AND " + live_status_condition +
           " ORDER BY created_at, id");
  names.emplace_back("live_jobs_recent");
  return names;
}

pqxx::result fetch_live_rows(pqxx::transaction_base& txn, const std::string& cursor,
                             std::int32_t limit) {
  return txn.exec("FETCH FORWARD " + std::to_string(std::max(limit, 1)) + " FROM " +
                  txn.quote_name(cursor));
}

void append_jobs(const pqxx::result& rows, std::vector<job_record>& jobs) {
  jobs.reserve(jobs.size() + rows.size());
  for (const auto& row : rows)
    jobs.push_back(job_of(row));
}

std::int64_t count_live_jobs(pqxx::transaction_base& txn, const std::string& cluster_id,
                             timestamp_ms load_before) {
  const auto cluster = text(txn, cluster_id);
  const auto boundary =
      "(SELECT live_jobs_before FROM clusters WHERE id = " + cluster + ")";
  // live_jobs alone (an index-only scan) for the moved ones: a row left behind by hand
  // would count one job too many, which only makes the cap stricter until the load ends.
  return txn
      .exec("SELECT (SELECT count(*) FROM live_jobs WHERE cluster_id = " + cluster +
            " AND created_at < " + boundary +
            ") + (SELECT count(*) FROM jobs WHERE cluster_id = " + cluster +
            " AND created_at >= " + boundary + " AND created_at < " +
            timestamp_of_ms(std::to_string(load_before)) + " AND " +
            live_status_condition + ")")[0][0]
      .as<std::int64_t>();
}

std::vector<job_record> fetch_job(pqxx::transaction_base& txn,
                                  const std::string& cluster_id, const std::string& id) {
  std::vector<job_record> result;
  for (const auto& row :
       txn.exec("SELECT " + job_columns() + " FROM jobs WHERE cluster_id = " +
                text(txn, cluster_id) + " AND id = " + text(txn, id)))
    result.push_back(job_of(row));
  give_newest_work_args(txn, cluster_id, result);
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

std::vector<cache_entry_record>
find_cached_resolution(pqxx::transaction_base& txn,
                       const cached_resolution_query& query) {
  // jobs_cache_lookup finds the key's jobs; a key has few, one per expiry at most.
  auto rows = txn.exec("SELECT id, " + epoch_ms("resulted_at") +
                       " FROM jobs WHERE cluster_id = " + text(txn, query.cluster_id) +
                       " AND service = " + text(txn, query.service) +
                       " AND target_fn = " + text(txn, query.target_fn) +
                       " AND cache_key = " + text(txn, query.cache_key) +
                       " AND result_type = 'resolution' AND resulted_at > " +
                       timestamp(query.since) + " ORDER BY resulted_at DESC LIMIT 1");
  std::vector<cache_entry_record> result;
  for (const auto& row : rows)
    result.push_back(cache_entry_record{query.service, query.target_fn, query.cache_key,
                                        row[0].as<std::string>(),
                                        row[1].as<timestamp_ms>()});
  return result;
}

} // namespace diffplane::persistence::sql
