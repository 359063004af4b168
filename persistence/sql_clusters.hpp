#pragma once

#include "persistence/records.hpp"

#include <vector>

namespace pqxx {
class transaction_base;
}

// All SQL of the clusters table.
namespace diffplane::persistence::sql {

void insert_clusters(pqxx::transaction_base& txn,
                     const std::vector<const cluster_record*>& rows);
std::vector<cluster_record> load_clusters(pqxx::transaction_base& txn);

} // namespace diffplane::persistence::sql
