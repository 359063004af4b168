#include "gateway/connection_deadlines.hpp"

#include <algorithm>

namespace diffplane::gateway {

void connection_deadlines::watch(const std::shared_ptr<entry>& connection) {
  std::lock_guard lock{mutex_};
  watched_.push_back(connection);
}

std::size_t connection_deadlines::expire_due(clock::time_point now) {
  // Expired outside the lock: an expire() may close a connection, whose destruction
  // must not wait for this sweep.
  std::vector<std::shared_ptr<entry>> overdue;
  {
    std::lock_guard lock{mutex_};
    for (std::size_t i = 0; i < watched_.size();) {
      auto connection = watched_[i].lock();
      if (!connection) {
        watched_[i] = std::move(watched_.back());
        watched_.pop_back();
        continue;
      }
      if (connection->overdue(now))
        overdue.push_back(std::move(connection));
      ++i;
    }
  }
  for (auto& connection : overdue)
    connection->expire();
  return overdue.size();
}

std::size_t connection_deadlines::size() const {
  std::lock_guard lock{mutex_};
  return watched_.size();
}

connection_deadlines::clock::duration
connection_deadlines::interval_for(clock::duration timeout) {
  return std::clamp<clock::duration>(timeout / 4, std::chrono::milliseconds{10},
                                     std::chrono::seconds{1});
}

} // namespace diffplane::gateway
