#include "gateway/request_deadlines.hpp"

#include <vector>

namespace diffplane::gateway {

std::uint64_t request_deadlines::open(clock::time_point due, std::function<void()> expire) {
  auto id = next_id_++;
  open_.emplace(id, entry{due, std::move(expire)});
  return id;
}

bool request_deadlines::close(std::uint64_t id) {
  return open_.erase(id) > 0;
}

void request_deadlines::expire_due(clock::time_point now) {
  // Taken out first: an `expire` may open or close requests.
  std::vector<std::function<void()>> overdue;
  for (auto it = open_.begin(); it != open_.end();) {
    if (it->second.due <= now) {
      overdue.push_back(std::move(it->second.expire));
      it = open_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& expire : overdue)
    expire();
}

} // namespace diffplane::gateway
