#pragma once

#include <cstddef>
#include <string_view>

namespace diffplane::gateway {

/// How deep the control bodies the SDK sends may nest (polls, telemetry, management):
/// they nest at most four levels; payloads are read without a document and not bounded.
inline constexpr std::size_t max_control_body_nesting = 32;

/// Whether text opens more than `limit` arrays or objects inside one another, counted
/// without parsing (brackets inside strings do not count), so a body of a million `[`
/// is refused before a parser builds a million nested documents for it.
bool nests_deeper_than(std::string_view text, std::size_t limit);

} // namespace diffplane::gateway
