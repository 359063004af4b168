#include "actors/refusal_rows.hpp"

#include "metrics/catalog.hpp"

#include <algorithm>
#include <mutex>

namespace diffplane {

struct refusal_rows::bucket {
  std::mutex mutex;
  double tokens;
  double burst;
  double per_second;
  time_point refilled{};
};

refusal_rows::refusal_rows(std::size_t burst, std::size_t per_second)
    : bucket_(std::make_shared<bucket>()) {
  bucket_->burst = static_cast<double>(burst);
  bucket_->tokens = bucket_->burst;
  bucket_->per_second = static_cast<double>(per_second);
}

bool refusal_rows::take(time_point now) {
  auto& b = *bucket_;
  std::lock_guard lock{b.mutex};
  if (b.refilled != time_point{} && now > b.refilled) {
    std::chrono::duration<double> elapsed = now - b.refilled;
    b.tokens = std::min(b.burst, b.tokens + elapsed.count() * b.per_second);
  }
  if (now > b.refilled)
    b.refilled = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  metrics::jobs().results_not_recorded.add();
  return false;
}

} // namespace diffplane
