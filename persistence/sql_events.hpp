#pragma once

#include "persistence/records.hpp"

#include <vector>

namespace pqxx {
class transaction_base;
}

// All SQL of the events (activity log) and client_events (SDK telemetry) tables.
namespace diffplane::persistence::sql {

void insert_events(pqxx::transaction_base& txn,
                   const std::vector<const event_record*>& rows);
void insert_client_events(pqxx::transaction_base& txn,
                          const std::vector<const client_event_record*>& rows);

} // namespace diffplane::persistence::sql
