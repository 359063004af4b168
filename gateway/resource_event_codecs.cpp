#include "gateway/resource_event_codecs.hpp"

#include "gateway/json_codecs.hpp"
#include "persistence/iso8601.hpp"

#include <nlohmann/json.hpp>

namespace diffplane::gateway {

namespace {

using json = nlohmann::json;

/// The query parameter `name` as a whole number from `least` to `most` (at most 18
/// digits, so it cannot overflow); `fallback` when absent.
std::int64_t whole_parameter(const http_request& request, const char* name,
                             std::int64_t least, std::int64_t most,
                             std::int64_t fallback) {
  const auto* text = request.query_value(name);
  if (text == nullptr)
    return fallback;
  std::int64_t value = 0;
  bool ok = !text->empty() && text->size() <= 18;
  for (char c : *text) {
    ok = ok && c >= '0' && c <= '9';
    if (ok)
      value = value * 10 + (c - '0');
  }
  if (!ok || value < least || value > most)
    throw bad_input(name, std::string{name} + " must be an integer from " +
                              std::to_string(least) + " to " + std::to_string(most));
  return value;
}

json nullable(const std::string& text) {
  return text.empty() ? json(nullptr) : json(text);
}

} // namespace

resource_events_request decode_resource_events(const http_request& request) {
  resource_events_request events;
  events.after = whole_parameter(request, "after", 0, 999'999'999'999'999'999, 0);
  events.limit =
      static_cast<std::int32_t>(whole_parameter(request, "limit", 1, 1000, 100));
  events.ttl_ms =
      static_cast<std::int32_t>(whole_parameter(request, "ttl", 0, max_events_ttl_seconds,
                                                default_events_ttl_seconds) *
                                1000);
  return events;
}

std::string encode_resource_events(const resource_events_page& page) {
  auto list = json::array();
  for (const auto& e : page.events)
    list.push_back(json{{"seq", e.seq},
                        {"kind", e.kind},
                        {"id", e.id},
                        {"type", e.type},
                        {"state", e.state},
                        {"previousState", nullable(e.previous_state)},
                        {"attempt", e.attempt},
                        {"message", nullable(e.message)},
                        {"jobId", nullable(e.job_id)},
                        {"at", format_iso8601(e.at)}});
  return json{{"events", std::move(list)}, {"cursor", page.cursor}}.dump();
}

} // namespace diffplane::gateway
