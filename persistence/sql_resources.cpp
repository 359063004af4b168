#include "persistence/sql_resources.hpp"

#include "persistence/prepared.hpp"
#include "persistence/resource_work_args.hpp"
#include "persistence/sql_arrays.hpp"
#include "persistence/sql_resource_events.hpp"
#include "persistence/sql_resource_namespaces.hpp"
#include "persistence/sql_values.hpp"

#include <array>
#include <string_view>
#include <unordered_map>

namespace diffplane::persistence::sql {

namespace {

/// The columns every read selects, in the order read_resource takes them.
const std::string resource_columns =
    "r.cluster_id, r.kind, r.object_id, r.object::text, r.hash, r.version, r.namespace, "
    "r.tags::text, r.metadata::text, " +
    epoch_ms("r.external_created_at") +
    ", r.state, r.attempts, r.max_attempts, r.errors::text, r.dirty, r.work_job_id, " +
    epoch_ms("r.next_attempt_at") + ", r.revision, " + epoch_ms("r.created_at") + ", " +
    epoch_ms("r.updated_at");
constexpr int resource_column_count = 20;

resource_record read_resource(const pqxx::row& row) {
  resource_record r;
  r.cluster_id = row[0].as<std::string>();
  r.kind = row[1].as<std::string>();
  r.id = row[2].as<std::string>();
  r.object_json = row[3].as<std::string>();
  r.hash = row[4].as<std::string>();
  r.has_version = !row[5].is_null();
  r.version = r.has_version ? row[5].as<std::int64_t>() : 0;
  r.namespace_name = row[6].as<std::string>();
  r.tags_json = row[7].as<std::string>();
  r.metadata_json = field_text(row[8]);
  r.external_created_at = row[9].as<timestamp_ms>();
  parse(row[10].as<std::string>(), r.state);
  r.attempts = row[11].as<std::int32_t>();
  r.max_attempts = row[12].as<std::int32_t>();
  r.errors_json = row[13].as<std::string>();
  r.dirty = row[14].as<bool>();
  r.work_job_id = field_text(row[15]);
  r.next_attempt_at = row[16].as<timestamp_ms>();
  r.revision = row[17].as<std::int64_t>();
  r.created_at = row[18].as<timestamp_ms>();
  r.updated_at = row[19].as<timestamp_ms>();
  return r;
}

/// Every resource of a cluster, with the state of its work job.
std::vector<loaded_resource> load_resource_rows(pqxx::transaction_base& txn,
                                                const std::string& cluster_id) {
  auto rows = txn.exec("SELECT " + resource_columns +
                       ", j.status, j.result_type, j.result FROM resources r "
                       "LEFT JOIN jobs j ON j.cluster_id = r.cluster_id AND "
                       "j.id = r.work_job_id WHERE r.cluster_id = " +
                       text(txn, cluster_id) + " ORDER BY r.kind, r.object_id");
  std::vector<loaded_resource> result;
  result.reserve(rows.size());
  for (const auto& row : rows) {
    loaded_resource loaded;
    loaded.resource = read_resource(row);
    loaded.job_found = !row[resource_column_count].is_null();
    if (loaded.job_found) {
      parse(row[resource_column_count].as<std::string>(), loaded.job_status_value);
      parse(field_text(row[resource_column_count + 1]), loaded.job_result_type);
      loaded.job_result = field_text(row[resource_column_count + 2]);
    }
    result.push_back(std::move(loaded));
  }
  return result;
}

/// "unnest($first::type[]) AS name, ..." over the array parameters first, first + 1, ...:
/// the rows of a select list that unnests the arrays in step. Unnested in the select
/// list (a ProjectSet), the rows go straight to the insert; in FROM (a function scan),
/// Postgres first copied every row of every array into a tuplestore of its own and read
/// them back (a sixth of the writer backend's time on changed informs, bench/resources).
template <std::size_t N>
std::string unnested(int first, const std::array<const char*, N>& types,
                     const std::array<const char*, N>& names) {
  std::string text;
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0)
      text += ", ";
    text.append("unnest($")
        .append(std::to_string(first + static_cast<int>(i)))
        .append("::")
        .append(types[i])
        .append("[]) AS ")
        .append(names[i]);
  }
  return text;
}

/// "AND column = value" when `value` is set.
std::string filter(pqxx::transaction_base& txn, const char* column,
                   const std::string& value) {
  return value.empty() ? std::string{}
                       : std::string{" AND r."} + column + " = " + text(txn, value);
}

} // namespace

void write_resources(pqxx::transaction_base& txn,
                     const std::vector<const resource_record*>& rows) {
  if (rows.empty())
    return;
  // One array parameter per column (sql_arrays.hpp says why): a batch of 1,000 informs
  // was a VALUES list of 20,000 literals, parsed and planned at every commit. Binary:
  // Postgres parsed the text of the arrays (array_in) more than anything else.
  using type = binary_array::element;
  binary_array cluster_ids{type::text}, kinds{type::text}, ids{type::text},
      objects{type::text}, hashes{type::text}, versions{type::bigint},
      namespaces{type::text}, tags{type::text}, metadata{type::text},
      external_created{type::bigint}, states{type::text}, attempts{type::integer},
      max_attempts{type::integer}, errors{type::text}, dirty{type::boolean},
      work_jobs{type::text}, next_attempts{type::bigint}, revisions{type::bigint},
      created{type::bigint}, updated{type::bigint};
  for (const auto* r : rows) {
    cluster_ids.add_text(r->cluster_id);
    kinds.add_text(r->kind);
    ids.add_text(r->id);
    objects.add_text(r->object_json);
    hashes.add_text(r->hash);
    if (r->has_version)
      versions.add_int(r->version);
    else
      versions.add_null();
    namespaces.add_text(r->namespace_name);
    tags.add_text(r->tags_json);
    metadata.add_text_or_null(r->metadata_json);
    external_created.add_int(r->external_created_at);
    states.add_text(to_string(r->state));
    attempts.add_int(r->attempts);
    max_attempts.add_int(r->max_attempts);
    errors.add_text(r->errors_json);
    dirty.add_bool(r->dirty);
    work_jobs.add_text_or_null(r->work_job_id);
    next_attempts.add_int(r->next_attempt_at);
    revisions.add_int(r->revision);
    created.add_int(r->created_at);
    updated.add_int(r->updated_at);
  }
  std::vector<pqxx::binarystring> params;
  for (auto* array : {&cluster_ids, &kinds, &ids, &objects, &hashes, &versions, &namespaces,
                      &tags, &metadata, &external_created, &states, &attempts,
                      &max_attempts, &errors, &dirty, &work_jobs, &next_attempts,
                      &revisions, &created, &updated})
    params.emplace_back(array->take());
  static const std::string query =
      "INSERT INTO resources (cluster_id, kind, object_id, object, hash, version, "
      "namespace, tags, metadata, external_created_at, state, attempts, max_attempts, "
      "errors, dirty, work_job_id, next_attempt_at, revision, created_at, updated_at) "
      "SELECT c, k, i, o::jsonb, h, ver, n, t::jsonb, md::jsonb, " +
      timestamp_of_ms("ec") + ", s, a, ma, e::jsonb, d, w, " + timestamp_of_ms("na") +
      ", rev, coalesce(" + timestamp_of_ms("cr") + ", now()), coalesce(" +
      timestamp_of_ms("up") + ", now()) FROM (SELECT " +
      unnested(1, std::array{"text", "text", "text", "text", "text", "bigint", "text",
                             "text", "text", "bigint", "text", "integer", "integer", "text",
                             "boolean", "text", "bigint", "bigint", "bigint", "bigint"},
               std::array{"c", "k", "i", "o", "h", "ver", "n", "t", "md", "ec", "s", "a",
                          "ma", "e", "d", "w", "na", "rev", "cr", "up"}) +
      ") AS v ON CONFLICT (cluster_id, kind, object_id) DO UPDATE SET "
      "object = excluded.object, hash = excluded.hash, version = excluded.version, "
      "namespace = excluded.namespace, tags = excluded.tags, "
      "metadata = excluded.metadata, "
      "external_created_at = excluded.external_created_at, state = excluded.state, "
      "attempts = excluded.attempts, max_attempts = excluded.max_attempts, "
      "errors = excluded.errors, dirty = excluded.dirty, "
      "work_job_id = excluded.work_job_id, "
      "next_attempt_at = excluded.next_attempt_at, revision = excluded.revision, "
      "updated_at = excluded.updated_at "
      "WHERE resources.revision < excluded.revision";
  exec_prepared(txn, "diffplane_write_resources", query,
                pqxx::prepare::make_dynamic_params(params));
}

void give_newest_work_args(pqxx::transaction_base& txn, const std::string& cluster_id,
                           std::vector<job_record>& jobs) {
  constexpr std::string_view prefix = "resources.";
  array_literal kinds, ids, job_ids;
  std::unordered_map<std::string_view, job_record*> works;
  for (auto& job : jobs) {
    if (job.target_fn != "work" || job.service.size() <= prefix.size() ||
        job.service.compare(0, prefix.size(), prefix) != 0)
      continue;
    // The object id is in the arguments only: the resource is looked up by its key.
    auto id = work_object_id(job.target_args);
    if (id.empty())
      continue;
    kinds.add_text(std::string_view{job.service}.substr(prefix.size()));
    ids.add_text(id);
    job_ids.add_text(job.id);
    works.emplace(job.id, &job);
  }
  if (works.empty())
    return;
  // Scheduled or expired: the states an inform coalesces into the queued work.
  auto rows = txn.exec_params(
      "SELECT " + resource_columns +
          " FROM unnest($2::text[], $3::text[], $4::text[]) AS w (kind, object_id, job) "
          "JOIN resources r ON r.cluster_id = $1 AND r.kind = w.kind AND "
          "r.object_id = w.object_id AND r.work_job_id = w.job "
          "WHERE r.state IN ('scheduled', 'expired')",
      cluster_id, kinds.take(), ids.take(), job_ids.take());
  for (const auto& row : rows) {
    auto r = read_resource(row);
    if (auto it = works.find(r.work_job_id); it != works.end())
      it->second->target_args = work_args(r);
  }
}

void write_resource_kinds(pqxx::transaction_base& txn,
                          const std::vector<const resource_kind_record*>& rows) {
  if (rows.empty())
    return;
  auto positive_or_null = [](long long value) {
    return value > 0 ? std::to_string(value) : std::string{"NULL"};
  };
  std::string query = "INSERT INTO resource_kinds (cluster_id, kind, backoff_base_ms, "
                      "backoff_cap_ms, timeout_seconds, updated_at, "
                      "inform_interval_seconds, last_informed_at, inform_error) VALUES ";
  const char* separator = "";
  for (const auto* k : rows) {
    query += separator;
    query += "(" + text(txn, k->cluster_id) + "," + text(txn, k->kind) + "," +
             positive_or_null(k->backoff_base_ms) + "::bigint," +
             positive_or_null(k->backoff_cap_ms) + "::bigint," +
             positive_or_null(k->timeout_seconds) + "::integer," +
             timestamp_or_now(k->updated_at) + "," +
             positive_or_null(k->inform_interval_seconds) + "::integer," +
             timestamp(k->last_informed_at) + "," + text_or_null(txn, k->inform_error) +
             ")";
    separator = ",";
  }
  query +=
      " ON CONFLICT (cluster_id, kind) DO UPDATE SET "
      "backoff_base_ms = excluded.backoff_base_ms, "
      "backoff_cap_ms = excluded.backoff_cap_ms, "
      "timeout_seconds = excluded.timeout_seconds, updated_at = excluded.updated_at, "
      "inform_interval_seconds = excluded.inform_interval_seconds, "
      // A settings change (no time) keeps the informer's last run.
      "last_informed_at = coalesce(excluded.last_informed_at, "
      "resource_kinds.last_informed_at), "
      // The row's writer carries the error in effect (resources_actor.cpp, kind_row).
      "inform_error = excluded.inform_error";
  txn.exec(query);
}

resources_snapshot load_resources(pqxx::transaction_base& txn,
                                  const std::string& cluster_id) {
  resources_snapshot snapshot;
  for (const auto& row :
       txn.exec("SELECT cluster_id, kind, coalesce(backoff_base_ms, 0), "
                "coalesce(backoff_cap_ms, 0), coalesce(timeout_seconds, 0), " +
                epoch_ms("updated_at") + ", coalesce(inform_interval_seconds, 0), " +
                epoch_ms("last_informed_at") +
                ", coalesce(inform_error, '') FROM resource_kinds WHERE cluster_id = " +
                text(txn, cluster_id)))
    snapshot.kinds.push_back(resource_kind_record{
        row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::int64_t>(),
        row[3].as<std::int64_t>(), row[4].as<std::int32_t>(), row[5].as<timestamp_ms>(),
        row[6].as<std::int32_t>(), row[7].as<timestamp_ms>(), row[8].as<std::string>()});
  snapshot.namespaces = load_resource_namespaces(txn, cluster_id);
  snapshot.resources = load_resource_rows(txn, cluster_id);
  snapshot.last_event_seq = last_resource_event(txn, cluster_id);
  return snapshot;
}

resource_page query_resources(pqxx::transaction_base& txn, const resource_query& query) {
  std::string sql =
      "SELECT " + resource_columns +
      " FROM resources r WHERE r.cluster_id = " + text(txn, query.cluster_id);
  if (!query.id.empty()) {
    sql += filter(txn, "kind", query.kind) + filter(txn, "object_id", query.id);
  } else {
    sql += filter(txn, "kind", query.kind) + filter(txn, "state", query.state) +
           filter(txn, "namespace", query.namespace_name);
    if (auto slash = query.cursor.find('/'); slash != std::string::npos)
      sql += " AND (r.kind, r.object_id) > (" + text(txn, query.cursor.substr(0, slash)) +
             "," + text(txn, query.cursor.substr(slash + 1)) + ")";
  }
  // One more than asked for tells whether there is a next page.
  sql += " ORDER BY r.kind, r.object_id LIMIT " + std::to_string(query.limit + 1);
  resource_page page;
  for (const auto& row : txn.exec(sql))
    page.items.push_back(read_resource(row));
  if (page.items.size() > static_cast<std::size_t>(query.limit)) {
    page.items.pop_back();
    page.next_cursor = page.items.back().kind + '/' + page.items.back().id;
  }
  return page;
}

std::vector<resource_count> count_resources(pqxx::transaction_base& txn,
                                            const resource_counts_query& query) {
  auto rows = txn.exec("SELECT r.state, count(*) FROM resources r WHERE r.cluster_id = " +
                       text(txn, query.cluster_id) + filter(txn, "kind", query.kind) +
                       filter(txn, "namespace", query.namespace_name) +
                       " GROUP BY r.state ORDER BY r.state");
  std::vector<resource_count> counts;
  for (const auto& row : rows)
    counts.push_back(resource_count{row[0].as<std::string>(), row[1].as<std::int64_t>()});
  return counts;
}

} // namespace diffplane::persistence::sql
