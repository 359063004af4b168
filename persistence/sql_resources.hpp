#pragma once

#include "persistence/resource_records.hpp"

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

/// Replaces the arguments of queued work jobs (coalescing: the worker sees the newest
/// object, also after a restart).
void update_job_args(pqxx::transaction_base& txn,
                     const std::vector<const job_args_update*>& updates);

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
