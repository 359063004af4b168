#pragma once

#include "metrics/registry.hpp"

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace diffplane::gateway {

class connection_limits;

/// One admitted connection's place in the counts, given back exactly once when the slot
/// is destroyed (a session holds it as a member, so however the session ends).
class connection_slot {
public:
  connection_slot() = default;
  connection_slot(connection_slot&& other) noexcept;
  connection_slot& operator=(connection_slot&& other) noexcept;
  connection_slot(const connection_slot&) = delete;
  connection_slot& operator=(const connection_slot&) = delete;
  ~connection_slot();

  /// Whether this slot holds a place (a default-constructed or moved-from one does not).
  explicit operator bool() const { return owner_ != nullptr; }

private:
  friend class connection_limits;
  connection_slot(connection_limits* owner, std::string address, bool per_address,
                  metrics::gauge* open_gauge)
      : owner_(owner), address_(std::move(address)), per_address_(per_address),
        open_gauge_(open_gauge) {}
  void release();

  connection_limits* owner_ = nullptr;
  std::string address_;
  /// False for a connection refused over its address's limit: it holds a place in the
  /// total only, for the moment its refusal is being written.
  bool per_address_ = false;
  /// The open-connections gauge of the listener that admitted it, if any.
  metrics::gauge* open_gauge_ = nullptr;
};

/// Counts the open connections of one or more listeners, in all and per client address,
/// and says whether one more may open. Safe from any thread: sessions end on their own
/// strands.
class connection_limits {
public:
  /// 0 for `max_per_address` means no limit per address; `max_total` 0 likewise.
  connection_limits(std::size_t max_total, std::size_t max_per_address);

  enum class verdict { admitted, over_address, over_total };

  /// Decides on a connection from `address` (its textual IP). `admitted` and
  /// `over_address` fill `slot` with a place in the total (and, when admitted, in the
  /// address's count); `over_total` leaves it empty: close such a connection at once.
  /// `open_gauge`, when given, counts the slot while it holds its place: the gauge of
  /// the listener that asks, when listeners share these limits.
  verdict admit(const std::string& address, connection_slot& slot,
                metrics::gauge* open_gauge = nullptr);

  /// Connections holding a place now.
  std::size_t open() const;
  /// Connections from `address` holding a place now.
  std::size_t open_from(const std::string& address) const;
  /// Addresses with at least one open connection (the map never keeps the others).
  std::size_t addresses() const;
  /// The limits given at construction (0: none).
  std::size_t max_total() const { return max_total_; }
  std::size_t max_per_address() const { return max_per_address_; }

private:
  friend class connection_slot;
  void release(const std::string& address, bool per_address);

  const std::size_t max_total_;
  const std::size_t max_per_address_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

} // namespace diffplane::gateway
