#pragma once

#include "persistence/membership_records.hpp"
#include "persistence/records.hpp"

#include <string>
#include <unordered_set>
#include <vector>

namespace pqxx {
class result;
class transaction_base;
}

// All SQL of the jobs table.
namespace diffplane::persistence::sql {

/// Inserts the rows that do not exist yet (ON CONFLICT DO NOTHING, for ids a caller
/// chose); returns "cluster_id/id" of those inserted.
std::unordered_set<std::string>
insert_or_skip_jobs(pqxx::transaction_base& txn,
                    const std::vector<const job_record*>& rows);

/// In one statement: inserts `new_jobs`, whose ids the server generated (no row can have
/// them, so none is looked for: if one existed all the same, the statement fails), and
/// applies each state write whose revision is newer than the stored one. The statement
/// sees the jobs as they were before it: a write for one of `new_jobs` does nothing.
void write_jobs(pqxx::transaction_base& txn,
                const std::vector<const job_record*>& new_jobs,
                const std::vector<const job_state_write*>& states);

/// As write_jobs, in a statement that writes only while the node holds every lease of
/// `gate` at its epoch, checked and locked by the statement itself (lease_gate_check);
/// answers the clusters of those leases it holds: all of them, or it wrote nothing.
std::vector<std::string> write_jobs(pqxx::transaction_base& txn,
                                    const std::vector<const job_record*>& new_jobs,
                                    const std::vector<const job_state_write*>& states,
                                    const lease_gate& gate);

/// A prepared statement with its parameters in text form, for a caller that sends it
/// over libpq itself (benchtool commit-pipeline measures pipeline mode with it).
struct statement_call {
  const char* name;
  const std::string& text;
  std::vector<std::string> params;
};

/// The fenced write_jobs statement exactly as write_jobs sends it; each row it answers
/// is the cluster of one lease of `gate` that the node holds.
statement_call fenced_write_jobs_call(const std::vector<const job_record*>& new_jobs,
                                      const std::vector<const job_state_write*>& states,
                                      const lease_gate& gate);

/// Moves the cluster's live jobs created since its previous move and before
/// `move.created_before` into live_jobs, and makes that the cluster's live_jobs_before.
void move_live_jobs(pqxx::transaction_base& txn, const live_jobs_move& move);

/// The cluster's live_jobs_before: its live jobs created earlier are in live_jobs.
timestamp_ms live_jobs_before(pqxx::transaction_base& txn, const std::string& cluster_id);

/// The pending, running and stalled jobs of a cluster, oldest first. Below
/// `look_up_below` live jobs each is looked up by key; from there on live_jobs and jobs
/// are read side by side in creation order (tests pass 0 to take that path).
std::vector<job_record> load_live_jobs(pqxx::transaction_base& txn,
                                       const std::string& cluster_id,
                                       long look_up_below = 100000);

/// A time after the creation of every job of the cluster (0: it has none).
timestamp_ms jobs_created_before(pqxx::transaction_base& txn,
                                 const std::string& cluster_id);

/// Declares, in `txn` (a snapshot), the cursors that read the cluster's live jobs created
/// before `load_before`, oldest first; returns their names in the order to read them.
std::vector<std::string> declare_live_jobs_cursors(pqxx::transaction_base& txn,
                                                   const std::string& cluster_id,
                                                   timestamp_ms load_before);

/// The next `limit` rows of a cursor of declare_live_jobs_cursors (fewer: its last).
pqxx::result fetch_live_rows(pqxx::transaction_base& txn, const std::string& cursor,
                             std::int32_t limit);

/// Appends the jobs of rows read by fetch_live_rows to `jobs` (any thread may do this:
/// it touches the rows only, not the connection).
void append_jobs(const pqxx::result& rows, std::vector<job_record>& jobs);

/// How many live jobs the cursors of declare_live_jobs_cursors read in all.
std::int64_t count_live_jobs(pqxx::transaction_base& txn, const std::string& cluster_id,
                             timestamp_ms load_before);

/// Status and result of the given jobs of a cluster; unknown ids are left out.
std::vector<job_status_row> fetch_job_statuses(pqxx::transaction_base& txn,
                                               const std::string& cluster_id,
                                               const std::vector<std::string>& ids);

/// The job `id` of a cluster: none or one row.
std::vector<job_record> fetch_job(pqxx::transaction_base& txn,
                                  const std::string& cluster_id, const std::string& id);

/// The newest jobs of a cluster, or of one of its services when `service` is not empty.
std::vector<job_summary> latest_jobs(pqxx::transaction_base& txn,
                                     const std::string& cluster_id,
                                     const std::string& service, int limit);

/// The latest cached resolution per (service, fn, key) that resulted after `since`.
std::vector<cache_entry_record> load_cache_entries(pqxx::transaction_base& txn,
                                                   const std::string& cluster_id,
                                                   timestamp_ms since);

/// The latest resolution of one cache key that resulted after `query.since`: none or one.
std::vector<cache_entry_record>
find_cached_resolution(pqxx::transaction_base& txn, const cached_resolution_query& query);

/// The key insert_or_skip_jobs reports an inserted row under.
inline std::string job_key(const std::string& cluster_id, const std::string& id) {
  return cluster_id + '/' + id;
}

} // namespace diffplane::persistence::sql
