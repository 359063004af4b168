#pragma once

#include "persistence/records.hpp"

#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

// All SQL of the clusters table.
namespace diffplane::persistence::sql {

void insert_clusters(pqxx::transaction_base& txn,
                     const std::vector<const cluster_record*>& rows);
std::vector<cluster_record> load_clusters(pqxx::transaction_base& txn);
/// The cluster's row; an empty id when it does not exist.
cluster_record load_cluster(pqxx::transaction_base& txn, const std::string& cluster_id);
void update_cluster_settings(pqxx::transaction_base& txn,
                             const std::vector<const cluster_settings_write*>& rows);

} // namespace diffplane::persistence::sql
