#pragma once

#include <diffplane/protocol.hpp>

#include <string>
#include <vector>

namespace diffplane::testing {

/// The complete frames in `bytes` (as a server sent them on a raw connection), parsed.
inline std::vector<msgpack::object_handle> frames_of(const std::string& bytes) {
  std::vector<msgpack::object_handle> frames;
  std::size_t at = 0;
  while (bytes.size() - at >= protocol::length_prefix_bytes) {
    auto length =
        protocol::read_length(reinterpret_cast<const unsigned char*>(bytes.data() + at));
    if (bytes.size() - at - protocol::length_prefix_bytes < length)
      break;
    frames.push_back(
        protocol::parse(bytes.data() + at + protocol::length_prefix_bytes, length));
    at += protocol::length_prefix_bytes + length;
  }
  return frames;
}

} // namespace diffplane::testing
