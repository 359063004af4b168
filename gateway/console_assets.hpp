#pragma once

#include <string_view>
#include <vector>

namespace diffplane::gateway {

/// One file of the web console, embedded at configure time (gateway/embed_console.cmake).
struct console_asset {
  std::string_view name;
  std::string_view content_type;
  std::string_view body;
};

/// Every file of console/, sorted by name.
const std::vector<console_asset>& console_assets();

} // namespace diffplane::gateway
