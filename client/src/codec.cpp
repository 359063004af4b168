#include "diffplane/client/codec.hpp"

#include <map>

namespace diffplane::client {

bytes rejection_payload(const std::string& name, const std::string& message) {
  return pack_value(
      std::map<std::string, std::string>{{"name", name}, {"message", message}});
}

call_error error_of_rejection(const bytes& payload) {
  std::string name = "Error";
  std::string message = "the function rejected";
  try {
    auto handle = protocol::parse_value(payload.data(), payload.size());
    const auto& error = handle.get();
    if (error.type == msgpack::type::MAP) {
      for (std::uint32_t i = 0; i < error.via.map.size; ++i) {
        const auto& entry = error.via.map.ptr[i];
        if (entry.key.type != msgpack::type::STR || entry.val.type != msgpack::type::STR)
          continue;
        std::string_view key{entry.key.via.str.ptr, entry.key.via.str.size};
        if (key == "name")
          name = entry.val.as<std::string>();
        else if (key == "message")
          message = entry.val.as<std::string>();
      }
    } else if (error.type == msgpack::type::STR) {
      message = error.as<std::string>();
    }
  } catch (const std::exception& e) {
    return call_error("DecodeError",
                      std::string{"a rejection whose payload does not decode: "} +
                          e.what());
  }
  return call_error(name, message);
}

} // namespace diffplane::client
