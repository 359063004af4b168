#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace diffplane::gateway {

/// A hot-path request as a bridge actor keeps it while a cluster actor holds it.
class held_request : public std::enable_shared_from_this<held_request> {
public:
  virtual ~held_request() = default;
  /// The cluster actor holding the request died without answering it.
  virtual void holder_down() = 0;
};

/// The open hot-path requests of one bridge actor by the cluster actor holding them. A
/// cluster actor that dies answers nothing it parked (CAF 0.17 drops an undelivered
/// response promise silently), so the bridge monitors each cluster actor it asks, once,
/// and sends what a dead one held to whatever serves the cluster now. Keyed by the
/// actor's control block, which lives while a request's handle or the down message
/// names it. Used from one actor only: not thread-safe.
class held_requests {
public:
  using holder = const void*;

  /// Notes that `actor` holds request `id`; true if `actor` is new here (to monitor).
  bool hold(holder actor, std::uint64_t id, std::shared_ptr<held_request> request);
  /// Forgets request `id` of `actor`; false if `actor` did not hold it (any more).
  bool release(holder actor, std::uint64_t id);
  /// Forgets `actor` (it is down) and answers the requests it held.
  std::vector<std::shared_ptr<held_request>> take(holder actor);
  /// The cluster actors known here: each is monitored until its down is taken.
  std::size_t holders() const { return held_.size(); }
  /// The requests `actor` holds.
  std::size_t size(holder actor) const;

private:
  using by_id = std::unordered_map<std::uint64_t, std::shared_ptr<held_request>>;
  std::unordered_map<holder, by_id> held_;
};

} // namespace diffplane::gateway
