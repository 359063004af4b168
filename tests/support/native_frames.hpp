#pragma once

#include <diffplane/protocol.hpp>

#include <string>
#include <vector>

namespace diffplane::testing {

/// Calls `on_frame` with each complete frame at the front of `bytes` (as a server sent
/// them on a raw connection), parsed; returns how many bytes those frames take.
template <class F> std::size_t for_each_frame(const std::string& bytes, F on_frame) {
  std::size_t at = 0;
  while (bytes.size() - at >= protocol::length_prefix_bytes) {
    auto length =
        protocol::read_length(reinterpret_cast<const unsigned char*>(bytes.data() + at));
    if (bytes.size() - at - protocol::length_prefix_bytes < length)
      break;
    on_frame(protocol::parse(bytes.data() + at + protocol::length_prefix_bytes, length));
    at += protocol::length_prefix_bytes + length;
  }
  return at;
}

/// The complete frames in `bytes`, parsed.
inline std::vector<msgpack::object_handle> frames_of(const std::string& bytes) {
  std::vector<msgpack::object_handle> frames;
  for_each_frame(
      bytes, [&](msgpack::object_handle frame) { frames.push_back(std::move(frame)); });
  return frames;
}

/// Calls `on_frame` with the body of each complete frame at the front of `bytes`, then
/// drops those frames from `bytes`, keeping an incomplete one for the next read.
template <class F> void consume_frames(std::string& bytes, F on_frame) {
  bytes.erase(0, for_each_frame(bytes, [&](msgpack::object_handle frame) {
                on_frame(frame.get());
              }));
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
