#include "gateway/held_requests.hpp"

namespace diffplane::gateway {

bool held_requests::hold(holder actor, std::uint64_t id,
                         std::shared_ptr<held_request> request) {
  auto [it, added] = held_.try_emplace(actor);
  it->second.insert_or_assign(id, std::move(request));
  return added;
}

bool held_requests::release(holder actor, std::uint64_t id) {
  // The actor's entry stays while its requests come and go: it is monitored once, and
  // forgotten only with its down.
  auto it = held_.find(actor);
  return it != held_.end() && it->second.erase(id) > 0;
}

std::vector<std::shared_ptr<held_request>> held_requests::take(holder actor) {
  std::vector<std::shared_ptr<held_request>> taken;
  auto it = held_.find(actor);
  if (it == held_.end())
    return taken;
  taken.reserve(it->second.size());
  for (auto& [id, request] : it->second)
    taken.push_back(std::move(request));
  held_.erase(it);
  return taken;
}

std::size_t held_requests::size(holder actor) const {
  auto it = held_.find(actor);
  return it == held_.end() ? 0 : it->second.size();
}

} // namespace diffplane::gateway
