#pragma once

#include "persistence/resource_records.hpp"

#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

// All SQL of the resources table.
namespace diffplane::persistence::sql {

/// Inserts or updates the rows in one statement; an update lands only over an older
/// revision, so a write that arrives late never undoes a newer one.
void write_resources(pqxx::transaction_base& txn,
                     const std::vector<const resource_record*>& rows);

/// Gives each work job among `jobs` (function `work` of a service `resources.<kind>`)
/// that its resource still has queued (scheduled or expired) the arguments of the
/// resource's row as `txn` sees it: a coalesced inform writes the resource's row, not
/// the job's, so a job read back (a restart's load) takes the newest object from there.
void give_newest_work_args(pqxx::transaction_base& txn, const std::string& cluster_id,
                           std::vector<job_record>& jobs);

/// Inserts or replaces kinds' settings.
void write_resource_kinds(pqxx::transaction_base& txn,
                          const std::vector<const resource_kind_record*>& rows);

/// Every resource of a cluster, with the state of its work job, and its kinds' settings.
resources_snapshot load_resources(pqxx::transaction_base& txn,
                                  const std::string& cluster_id);

/// One resource (kind and id set) or a page of them in key order.
resource_page query_resources(pqxx::transaction_base& txn, const resource_query& query);

/// How many resources are in each state (states with none are left out).
std::vector<resource_count> count_resources(pqxx::transaction_base& txn,
                                            const resource_counts_query& query);

} // namespace diffplane::persistence::sql
