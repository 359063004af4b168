#include "persistence/lease_ledger.hpp"

#include <unordered_set>

namespace diffplane {

void lease_ledger::hold(const std::string& cluster_id, std::int64_t epoch,
                        time_point valid_until) {
  std::lock_guard lock{mutex_};
  leases_[cluster_id] = entry{epoch, valid_until};
}

void lease_ledger::drop(const std::string& cluster_id) {
  std::lock_guard lock{mutex_};
  leases_.erase(cluster_id);
}

std::vector<held_lease> lease_ledger::held() const {
  std::lock_guard lock{mutex_};
  std::vector<held_lease> result;
  result.reserve(leases_.size());
  for (const auto& [id, lease] : leases_)
    result.push_back({id, lease.epoch});
  return result;
}

void lease_ledger::renewed(const std::vector<held_lease>& sent,
                           const std::vector<std::string>& renewed,
                           time_point valid_until) {
  std::unordered_set<std::string> ok{renewed.begin(), renewed.end()};
  std::lock_guard lock{mutex_};
  for (const auto& lease : sent) {
    auto it = leases_.find(lease.cluster_id);
    // Dropped, or taken again under a newer epoch, since the renewal was sent.
    if (it == leases_.end() || it->second.epoch != lease.epoch ||
        ok.count(lease.cluster_id) == 0)
      continue;
    if (it->second.valid_until < valid_until)
      it->second.valid_until = valid_until;
  }
}

std::optional<lease_ledger::time_point>
lease_ledger::valid_until(const std::string& cluster_id, std::int64_t epoch) const {
  std::lock_guard lock{mutex_};
  auto it = leases_.find(cluster_id);
  if (it == leases_.end() || it->second.epoch != epoch)
    return std::nullopt;
  return it->second.valid_until;
}

} // namespace diffplane
