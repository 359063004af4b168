#include "persistence/node_lock.hpp"

#include <pqxx/pqxx>

#include <stdexcept>

namespace diffplane::persistence {

namespace {
// Distinct from the migrations' lock key; any constant shared by all nodes.
constexpr long long node_lock_key = 0x646966666e6f6465; // "diffnode"

/// Tries to take the lock on `connection`; whether it got it.
bool try_lock(pqxx::connection_base& connection) {
  pqxx::nontransaction txn{connection};
  return txn
      .exec1("SELECT pg_try_advisory_lock(" + std::to_string(node_lock_key) + ")")[0]
      .as<bool>();
}

} // namespace

node_lock::node_lock(const std::string& database_url)
    : database_url_(database_url),
      connection_(std::make_unique<pqxx::connection>(database_url)) {
  if (!try_lock(*connection_))
    throw std::runtime_error(
        "another diffplane server is using this database; running several "
        "nodes on one database is not supported yet");
}

node_lock::~node_lock() = default;

node_lock::status node_lock::keep() {
  if (connection_) {
    try {
      // Reads what the socket holds without sending anything: throws when the server
      // closed the session.
      connection_->get_notifs();
      if (connection_->is_open())
        return status::held;
    } catch (const pqxx::broken_connection&) {
    }
    connection_.reset();
  }
  try {
    auto again = std::make_unique<pqxx::connection>(database_url_);
    if (!try_lock(*again))
      return status::lost;
    connection_ = std::move(again);
    return status::taken_again;
  } catch (const std::exception&) {
    return status::unreachable;
  }
}

} // namespace diffplane::persistence
