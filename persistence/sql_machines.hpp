#pragma once

#include "persistence/records.hpp"

#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

// All SQL of the machines and services tables (both describe a cluster's workers).
namespace diffplane::persistence::sql {

void upsert_machines(pqxx::transaction_base& txn,
                     const std::vector<const machine_record*>& rows);
std::vector<machine_record> load_machines(pqxx::transaction_base& txn,
                                          const std::string& cluster_id);

void upsert_services(pqxx::transaction_base& txn,
                     const std::vector<const service_record*>& rows);
std::vector<service_record> load_services(pqxx::transaction_base& txn,
                                          const std::string& cluster_id);

} // namespace diffplane::persistence::sql
