#include "actors/parked_polls.hpp"

namespace diffplane {

parked_polls::parked_polls(parked_counter in_process, std::size_t process_limit,
                           std::size_t cluster_limit)
    : in_process_(std::move(in_process)),
      in_cluster_(std::make_shared<std::atomic<std::size_t>>(0)),
      process_limit_(process_limit), cluster_limit_(cluster_limit) {}

parked_polls::refusal parked_polls::try_park() {
  if (in_process_->load(std::memory_order_relaxed) >= process_limit_)
    return refusal::process_full;
  if (in_cluster_->load(std::memory_order_relaxed) >= cluster_limit_)
    return refusal::cluster_full;
  in_process_->fetch_add(1, std::memory_order_relaxed);
  in_cluster_->fetch_add(1, std::memory_order_relaxed);
  return refusal::none;
}

void parked_polls::unpark(std::size_t n) {
  if (n == 0 || !in_process_)
    return;
  in_process_->fetch_sub(n, std::memory_order_relaxed);
  in_cluster_->fetch_sub(n, std::memory_order_relaxed);
}

std::size_t parked_polls::in_cluster() const {
  return in_cluster_ ? in_cluster_->load(std::memory_order_relaxed) : 0;
}

} // namespace diffplane
