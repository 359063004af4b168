#pragma once

#include "persistence/resource_namespace_records.hpp"

#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

// The SQL of resource namespaces and of removing resources.
namespace diffplane::persistence::sql {

/// Inserts or replaces namespaces' settings.
void write_resource_namespaces(pqxx::transaction_base& txn,
                               const std::vector<const resource_namespace_record*>& rows);

/// The settings of a cluster's namespaces.
std::vector<resource_namespace_record>
load_resource_namespaces(pqxx::transaction_base& txn, const std::string& cluster_id);

/// Deletes the resources' rows (their work jobs stay: a job's row is its history).
void remove_resources(pqxx::transaction_base& txn,
                      const std::vector<const resource_key*>& keys);

} // namespace diffplane::persistence::sql
