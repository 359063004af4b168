#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace diffplane::persistence {

/// Cuts a database connection whose call into libpq runs past a deadline. A Postgres
/// that is frozen (SIGSTOP, a hung host on the same machine) keeps its sockets open and
/// acknowledged, so neither TCP keepalives nor tcp_user_timeout ever fire and libpq
/// waits forever. The watchdog's own thread shuts the socket down instead: the blocked
/// call returns at once with a lost connection, which the caller already handles.
///
/// Arming and disarming take an uncontended mutex and no system call; the thread wakes
/// on a coarse tick rather than being told of every call.
class connection_watchdog {
public:
  /// `tick`: how often the thread looks at the watched call; zero: no thread, and
  /// watches do nothing.
  connection_watchdog(std::chrono::milliseconds tick, std::string name);
  ~connection_watchdog();
  connection_watchdog(const connection_watchdog&) = delete;
  connection_watchdog& operator=(const connection_watchdog&) = delete;

  /// Watches `socket` from construction to destruction; cuts it once `limit` passed
  /// (zero: never).
  class watch {
  public:
    watch(connection_watchdog& dog, int socket, std::chrono::milliseconds limit);
    ~watch();
    watch(const watch&) = delete;
    watch& operator=(const watch&) = delete;

  private:
    connection_watchdog& dog_;
  };

  /// Whether the watchdog cut the connection of the last watch.
  bool fired();

private:
  void run();

  std::chrono::milliseconds tick_;
  std::string name_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  /// The watched socket, -1 when none. The socket is closed only after its watch ends,
  /// so the watchdog never shuts down a descriptor number reused by someone else.
  int socket_ = -1;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::milliseconds limit_{0};
  bool fired_ = false;
  std::thread thread_;
};

} // namespace diffplane::persistence
