#pragma once

#include "persistence/records.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace diffplane {

/// "2026-11-23T08:54:53.123Z" for epoch milliseconds.
std::string format_iso8601(timestamp_ms ms);

/// Epoch milliseconds of an ISO-8601 date-time ("2026-11-23T08:54:53Z", with optional
/// fraction and "+hh:mm" offset, or a date alone); nothing when malformed.
std::optional<timestamp_ms> parse_iso8601(std::string_view text);

} // namespace diffplane
