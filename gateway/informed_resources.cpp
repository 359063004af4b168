#include "gateway/informed_resources.hpp"

#include "gateway/json_codecs.hpp"
#include "gateway/resource_codecs.hpp"

#include <nlohmann/json.hpp>

namespace diffplane::gateway {

namespace {

/// `text` with "resources[i]" (a chunk's index) spelled "resolution[offset + i]".
std::string renumbered(const std::string& text, std::size_t offset) {
  static const std::string prefix = "resources[";
  auto at = text.find(prefix);
  if (at == std::string::npos)
    return text;
  auto close = text.find(']', at);
  if (close == std::string::npos)
    return text;
  auto index = std::stoul(text.substr(at + prefix.size(), close - at - prefix.size()));
  return text.substr(0, at) + "resolution[" + std::to_string(offset + index) +
         text.substr(close);
}

} // namespace

std::vector<resource_input> decode_informed(const std::string& array_json) {
  auto root = nlohmann::json::parse(array_json, nullptr, false);
  if (root.is_discarded() || !root.is_array())
    throw bad_input("resolution", "the informer must resolve with an array of resources "
                                  "(the POST /resources item shape)");
  std::vector<resource_input> items;
  items.reserve(root.size());
  // decode_inform takes at most 1,000 resources: the same rules, chunk by chunk.
  for (std::size_t offset = 0; offset < root.size(); offset += max_resources_per_inform) {
    auto end = std::min(root.size(), offset + max_resources_per_inform);
    nlohmann::json chunk = {
        {"resources", nlohmann::json(root.begin() + static_cast<std::ptrdiff_t>(offset),
                                     root.begin() + static_cast<std::ptrdiff_t>(end))}};
    try {
      auto request = decode_inform(chunk.dump());
      for (auto& item : request.items)
        items.push_back(std::move(item));
    } catch (const bad_input& e) {
      throw bad_input(renumbered(e.field, offset), renumbered(e.what(), offset));
    }
  }
  return items;
}

} // namespace diffplane::gateway
