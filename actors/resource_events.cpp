#include "actors/resource_events.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <tuple>

namespace diffplane::resources {

namespace {

/// The message of the newest failed attempt in `errors_json`; empty: none.
std::string last_error(const std::string& errors_json) {
  auto errors = nlohmann::json::parse(errors_json, nullptr, false);
  if (!errors.is_array() || errors.empty() || !errors.back().is_object())
    return {};
  auto message = errors.back().find("message");
  return message != errors.back().end() && message->is_string()
             ? message->get<std::string>()
             : std::string{};
}

resource_event_record event_of(const resource_record& r, std::string type,
                               std::string previous_state, timestamp_ms at) {
  resource_event_record e;
  e.cluster_id = r.cluster_id;
  e.kind = r.kind;
  e.id = r.id;
  e.type = std::move(type);
  e.state = std::string{to_string(r.state)};
  e.previous_state = std::move(previous_state);
  e.attempt = r.attempts;
  if (r.state == resource_state::failed || r.state == resource_state::degraded)
    e.message = last_error(r.errors_json);
  e.job_id = r.work_job_id;
  e.at = at;
  return e;
}

} // namespace

std::optional<resource_event_record> transition(const resource_record* before,
                                                const resource_record& after) {
  if (before != nullptr && before->state == after.state)
    return std::nullopt;
  return event_of(after, std::string{to_string(after.state)},
                  before == nullptr ? std::string{}
                                    : std::string{to_string(before->state)},
                  after.updated_at);
}

resource_event_record purged(const resource_record& last, timestamp_ms at) {
  auto e = event_of(last, "purged", std::string{to_string(last.state)}, at);
  e.job_id.clear();
  return e;
}

void event_log::start(std::int64_t last, std::size_t capacity) {
  next_ = last + 1;
  floor_ = last;
  capacity_ = std::max<std::size_t>(capacity, 1);
  recent_.clear();
}

void event_log::number(std::vector<resource_event_record>& events) {
  std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return std::tie(a.kind, a.id) < std::tie(b.kind, b.id);
  });
  for (auto& e : events)
    e.seq = next_++;
}

void event_log::committed(const std::vector<resource_event_record>& events) {
  for (const auto& e : events)
    recent_.push_back(e);
  while (recent_.size() > capacity_) {
    floor_ = recent_.front().seq;
    recent_.pop_front();
  }
}

resource_events_page event_log::read(std::int64_t after, std::size_t limit) const {
  resource_events_page page;
  page.cursor = after;
  auto it = std::upper_bound(
      recent_.begin(), recent_.end(), after,
      [](std::int64_t value, const resource_event_record& e) { return value < e.seq; });
  for (; it != recent_.end() && page.events.size() < limit; ++it)
    page.events.push_back(*it);
  if (!page.events.empty())
    page.cursor = page.events.back().seq;
  return page;
}

} // namespace diffplane::resources
