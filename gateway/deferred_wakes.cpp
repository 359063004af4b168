#include "gateway/deferred_wakes.hpp"

#include <utility>

namespace diffplane::gateway {
namespace {

thread_local deferred_wakes* current = nullptr;

} // namespace

void deferred_wakes::wake(std::function<void()> wake) {
  if (current != nullptr)
    current->kept_.push_back(std::move(wake));
  else
    wake();
}

void deferred_wakes::flush() {
  // A wake made while flushing (none today) goes out at once, not into this list.
  auto kept = std::exchange(kept_, {});
  for (auto& wake : kept)
    wake();
}

deferred_wakes::scope::scope(deferred_wakes& list) : saved_(current) {
  current = &list;
}

deferred_wakes::scope::~scope() {
  current = saved_;
}

} // namespace diffplane::gateway
