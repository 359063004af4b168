#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace diffplane::bench {

/// The string at `key` of a JSON object, or "" when absent, null or not a string: answers
/// are checked by the load generator, not trusted to have the right shape.
inline std::string string_field(const nlohmann::json& object, const char* key) {
  if (!object.is_object())
    return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

} // namespace diffplane::bench
