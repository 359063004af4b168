#pragma once

#include <string>
#include <string_view>

namespace diffplane::bench {

/// Appends `text` to `out` as a quoted JSON string, escaped the way nlohmann's dump()
/// escapes it.
void append_json_string(std::string& out, std::string_view text);

} // namespace diffplane::bench
