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

/// `body` (a hand-packed frame body, e.g. with a field of the wrong type) with its length
/// prefix, ready to send.
inline std::string framed(const msgpack::sbuffer& body) {
  std::string frame(protocol::length_prefix_bytes, '\0');
  protocol::write_length(static_cast<std::uint32_t>(body.size()), frame.data());
  frame.append(body.data(), body.size());
  return frame;
}

} // namespace diffplane::testing
