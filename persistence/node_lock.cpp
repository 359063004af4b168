#include "persistence/node_lock.hpp"

#include <pqxx/pqxx>

#include <stdexcept>

namespace diffplane::persistence {

struct node_lock::session {
  explicit session(const std::string& url) : connection(url) {}
  pqxx::connection connection;
};

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
    : database_url_(database_url), session_(std::make_unique<session>(database_url)) {
  if (!try_lock(session_->connection))
    throw std::runtime_error(
        "another diffplane server is using this database; running several "
        "nodes on one database is not supported yet");
}

node_lock::~node_lock() = default;

node_lock::status node_lock::keep() {
  if (session_) {
    try {
      // Reads what the socket holds without sending anything: throws when the server
      // closed the session.
      session_->connection.get_notifs();
      if (session_->connection.is_open())
        return status::held;
    } catch (const pqxx::broken_connection&) {
    }
    session_.reset();
  }
  try {
    auto again = std::make_unique<session>(database_url_);
    if (!try_lock(again->connection))
      return status::lost;
    session_ = std::move(again);
    return status::taken_again;
  } catch (const std::exception&) {
    return status::unreachable;
  }
}

} // namespace diffplane::persistence
