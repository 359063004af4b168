#pragma once

#include "persistence/resource_event_records.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

// All SQL of the resource_events table.
namespace diffplane::persistence::sql {

/// Inserts the events in one statement; one already there (the same write applied
/// twice) is skipped.
void insert_resource_events(pqxx::transaction_base& txn,
                            const std::vector<const resource_event_record*>& rows);

/// The cluster's highest event number (0: none): where its numbering goes on.
std::int64_t last_resource_event(pqxx::transaction_base& txn,
                                 const std::string& cluster_id);

/// Events of `request.cluster_id` after `request.after` and up to `request.up_to`, in
/// order, at most `request.limit`.
std::vector<resource_event_record>
read_resource_events(pqxx::transaction_base& txn, const resource_events_request& request);

/// Deletes the events older than `hours`; returns how many.
std::int64_t prune_resource_events(pqxx::transaction_base& txn, std::int32_t hours);

} // namespace diffplane::persistence::sql
