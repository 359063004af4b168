#include "persistence/connection_watchdog.hpp"

#include "metrics/catalog.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <utility>

namespace diffplane::persistence {

connection_watchdog::connection_watchdog(std::chrono::milliseconds tick, std::string name)
    : tick_(tick), name_(std::move(name)) {
  if (tick_.count() > 0)
    thread_ = std::thread{[this] { run(); }};
}

connection_watchdog::~connection_watchdog() {
  if (!thread_.joinable())
    return;
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

connection_watchdog::watch::watch(connection_watchdog& dog, int socket,
                                  std::chrono::milliseconds limit)
    : dog_(dog) {
  if (dog_.tick_.count() == 0 || limit.count() == 0 || socket < 0)
    return;
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::lock_guard lock{dog_.mutex_};
  dog_.socket_ = socket;
  dog_.deadline_ = deadline;
  dog_.limit_ = limit;
  dog_.fired_ = false;
}

connection_watchdog::watch::~watch() {
  if (dog_.tick_.count() == 0)
    return;
  std::lock_guard lock{dog_.mutex_};
  dog_.socket_ = -1;
}

bool connection_watchdog::fired() {
  if (tick_.count() == 0)
    return false;
  std::lock_guard lock{mutex_};
  return fired_;
}

void connection_watchdog::run() {
  std::unique_lock lock{mutex_};
  while (!wake_.wait_for(lock, tick_, [this] { return stopping_; })) {
    if (socket_ < 0 || std::chrono::steady_clock::now() < deadline_)
      continue;
    // shutdown, not close: the descriptor stays the connection's until libpq closes it,
    // and the call blocked on it sees end-of-file and returns.
    ::shutdown(socket_, SHUT_RDWR);
    socket_ = -1;
    fired_ = true;
    metrics::persistence().cut_calls.add();
    spdlog::error("event=database_call_cut actor={} limit_ms={} reason=\"the database "
                  "did not answer in time\" action=reconnect",
                  name_, limit_.count());
  }
}

} // namespace diffplane::persistence
