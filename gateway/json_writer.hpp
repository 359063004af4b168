#pragma once

#include <string>
#include <string_view>

// Appends JSON text straight into a string, for the answers on the hot path (status
// polls name hundreds of jobs; building a DOM for each cost a third of the server's CPU).
// Strings are escaped per RFC 8259; they are valid UTF-8 already (checked at the edge).
namespace diffplane::gateway::json_writer {

void append_string(std::string& out, std::string_view text);

/// `"key":` (the key needs no escaping).
inline void append_key(std::string& out, std::string_view key) {
  out += '"';
  out += key;
  out += "\":";
}

/// The string, or null when empty.
inline void append_string_or_null(std::string& out, std::string_view text, bool is_null) {
  if (is_null)
    out += "null";
  else
    append_string(out, text);
}

} // namespace diffplane::gateway::json_writer
