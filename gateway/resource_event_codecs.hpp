#pragma once

#include "gateway/http_types.hpp"
#include "persistence/resource_event_records.hpp"

#include <string>

// The query and the answer of GET /resources/events (docs/http-api.md, "Resources").
namespace diffplane::gateway {

/// Longest wait of an events poll, and the wait when the request names none.
inline constexpr std::int32_t max_events_ttl_seconds = 30;
inline constexpr std::int32_t default_events_ttl_seconds = 20;

/// ?after=&ttl=&limit=: after 0 or more (default 0, the first event), ttl 0 to 30
/// seconds (default 20), limit 1 to 1000 (default 100); bad_input naming the parameter.
resource_events_request decode_resource_events(const http_request& request);

/// {"events": [...], "cursor": n}.
std::string encode_resource_events(const resource_events_page& page);

} // namespace diffplane::gateway
