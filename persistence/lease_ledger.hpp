#pragma once

#include "persistence/membership_records.hpp"

#include <caf/actor_clock.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace diffplane {

/// The leases a node serves and, by its own clock, until when. The node writes it when
/// it takes or gives up a lease and reads it in its lease check; the lease keeper renews
/// what it holds on the keeper's own timer and thread. So a node whose actor thread is
/// busy or starved keeps its leases as long as the keeper renews them in time.
class lease_ledger {
public:
  using time_point = caf::actor_clock::time_point;

  /// The cluster is served under `epoch` until `valid_until` unless renewed.
  void hold(const std::string& cluster_id, std::int64_t epoch, time_point valid_until);

  /// The cluster is no longer served here (lost, or being handed off): not renewed.
  void drop(const std::string& cluster_id);

  /// The leases to renew.
  std::vector<held_lease> held() const;

  /// A renewal of `sent` answered `renewed`: those still held at the epoch sent are valid
  /// until `valid_until` (when that is later than what they had).
  void renewed(const std::vector<held_lease>& sent, const std::vector<std::string>& renewed,
               time_point valid_until);

  /// Until when the cluster is served under `epoch`; none when it is not (any more).
  std::optional<time_point> valid_until(const std::string& cluster_id,
                                        std::int64_t epoch) const;

private:
  struct entry {
    std::int64_t epoch = 0;
    time_point valid_until{};
  };
  mutable std::mutex mutex_;
  std::map<std::string, entry> leases_;
};

/// Until when a lease renewed (or acquired) by a statement sent at `sent` may be served:
/// a margin before the database's expiry, which counts the TTL from later than `sent`.
inline lease_ledger::time_point lease_valid_until(lease_ledger::time_point sent,
                                                  std::chrono::milliseconds ttl) {
  return sent + ttl - ttl / 20;
}

/// The keeper renews the held leases by itself when no renewal went out for half a TTL
/// (the node's rounds, every heartbeat, normally do), looking every tenth of a TTL: at
/// most 0.6 TTL between two renewals, which leaves a third of it for a slow one.
inline std::chrono::milliseconds lease_renewal_due(std::chrono::milliseconds ttl) {
  return ttl / 2;
}
inline std::chrono::milliseconds lease_renewal_tick(std::chrono::milliseconds ttl) {
  return ttl / 10;
}

} // namespace diffplane
