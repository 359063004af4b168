#pragma once

#include <memory>
#include <string>

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

  /// What keep() found.
  enum class status {
    /// The lock is held on its connection.
    held,
    /// The lock's session had ended; the lock is held again on a new connection.
    taken_again,
    /// The lock's session ended and the database cannot be reached to take it again;
    /// no other node can take it either while that lasts.
    unreachable,
    /// The lock's session ended and another node took the lock meanwhile.
    lost,
  };

  /// Checks the lock's session without a round trip and, when it ended (a database
  /// restart, a terminated backend), takes the lock again on a new connection: the
  /// session's end released it, and a second node could otherwise start beside this one.
  status keep();

private:
  /// The lock's database session. Owned through its own type: pqxx::connection's base
  /// class has no virtual destructor, and deleting through it never closed the session
  /// (LeakSanitizer found the connection alive at every exit).
  struct session;

  std::string database_url_;
  std::unique_ptr<session> session_;
};

} // namespace diffplane::persistence
