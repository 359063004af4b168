#include "persistence/node_lock.hpp"

#include <pqxx/pqxx>

#include <stdexcept>

namespace diffplane::persistence {

namespace {
// Distinct from the migrations' lock key; any constant shared by all nodes.
constexpr long long node_lock_key = 0x646966666e6f6465; // "diffnode"
} // namespace

node_lock::node_lock(const std::string& database_url)
    : connection_(std::make_unique<pqxx::connection>(database_url)) {
  pqxx::nontransaction txn{*connection_};
  auto taken =
      txn.exec1("SELECT pg_try_advisory_lock(" + std::to_string(node_lock_key) + ")");
  if (!taken[0].as<bool>())
    throw std::runtime_error(
        "another diffplane server is using this database; running several "
        "nodes on one database is not supported yet");
}

node_lock::~node_lock() = default;

} // namespace diffplane::persistence
