#pragma once

#include <memory>
#include <string>

namespace pqxx {
class connection_base;
}

namespace diffplane::persistence {

/// Holds the database for one diffplane node: a session-level advisory lock on a
/// connection of its own, released when the process ends in any way. Several nodes on
/// one database need cluster leases (not built yet); until then a second node is refused
/// rather than let it recover, and so spend, the first node's running jobs.
class node_lock {
public:
  /// Takes the lock; throws std::runtime_error with a one-line message when another node
  /// holds it.
  explicit node_lock(const std::string& database_url);
  ~node_lock();
  node_lock(const node_lock&) = delete;
  node_lock& operator=(const node_lock&) = delete;

private:
  std::unique_ptr<pqxx::connection_base> connection_;
};

} // namespace diffplane::persistence
