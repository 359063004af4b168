#pragma once

#include "persistence/records.hpp"

#include <cstdint>
#include <vector>

namespace pqxx {
class transaction_base;
}

// The read side of the activity log and of the per-service metrics. Routine job events
// (created, received, resulted) are derived from the job rows, which already hold their
// times; only the exceptional ones (stalls, refused results, recoveries, failures, silent
// machines) are stored in the events table. That keeps the hot path to one row per job.
namespace diffplane::persistence::sql {

/// Newest first; for one job all of its entries, else up to `query.limit`.
std::vector<event_record> activity(pqxx::transaction_base& txn,
                                   const activity_query& query);

/// Summary over the jobs of the service created in the last 24 hours; one bin per minute
/// of the last hour.
function_metrics service_metrics(pqxx::transaction_base& txn, const metrics_query& query);

/// Deletes stored events and client events older than `hours`; returns how many.
std::int64_t prune_events(pqxx::transaction_base& txn, std::int32_t hours);

/// Deletes the machines that last pinged more than `hours` ago; answers how many.
std::int64_t prune_machines(pqxx::transaction_base& txn, std::int32_t hours);

} // namespace diffplane::persistence::sql
