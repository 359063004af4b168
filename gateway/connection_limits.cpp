#include "gateway/connection_limits.hpp"

#include <utility>

namespace diffplane::gateway {

connection_slot::connection_slot(connection_slot&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), address_(std::move(other.address_)),
      per_address_(other.per_address_), open_gauge_(other.open_gauge_) {}

connection_slot& connection_slot::operator=(connection_slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    address_ = std::move(other.address_);
    per_address_ = other.per_address_;
    open_gauge_ = other.open_gauge_;
  }
  return *this;
}

connection_slot::~connection_slot() {
  release();
}

void connection_slot::release() {
  if (auto* owner = std::exchange(owner_, nullptr)) {
    owner->release(address_, per_address_);
    if (open_gauge_ != nullptr)
      open_gauge_->add(-1);
  }
}

connection_limits::connection_limits(std::size_t max_total, std::size_t max_per_address)
    : max_total_(max_total), max_per_address_(max_per_address) {}

connection_limits::verdict connection_limits::admit(const std::string& address,
                                                    connection_slot& slot,
                                                    metrics::gauge* open_gauge) {
  std::lock_guard lock{mutex_};
  if (max_total_ != 0 && total_ >= max_total_)
    return verdict::over_total;
  ++total_;
  if (open_gauge != nullptr)
    open_gauge->add(1);
  auto [entry, _] = per_address_.try_emplace(address, 0);
  if (max_per_address_ != 0 && entry->second >= max_per_address_) {
    slot = connection_slot{this, address, false, open_gauge};
    return verdict::over_address;
  }
  ++entry->second;
  slot = connection_slot{this, address, true, open_gauge};
  return verdict::admitted;
}

void connection_limits::release(const std::string& address, bool per_address) {
  std::lock_guard lock{mutex_};
  --total_;
  if (!per_address)
    return;
  auto entry = per_address_.find(address);
  if (entry != per_address_.end() && --entry->second == 0)
    per_address_.erase(entry);
}

std::size_t connection_limits::open() const {
  std::lock_guard lock{mutex_};
  return total_;
}

std::size_t connection_limits::open_from(const std::string& address) const {
  std::lock_guard lock{mutex_};
  auto entry = per_address_.find(address);
  return entry == per_address_.end() ? 0 : entry->second;
}

std::size_t connection_limits::addresses() const {
  std::lock_guard lock{mutex_};
  return per_address_.size();
}

} // namespace diffplane::gateway
