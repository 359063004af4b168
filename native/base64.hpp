#pragma once

#include <optional>
#include <string>
#include <string_view>

// The HTTP API and the actors keep payloads as base64 text (the SDK's targetArgs and
// result); native frames carry the raw msgpack. The listener converts at its edge.
namespace diffplane::native {

/// `bytes` as standard base64 with padding.
std::string base64_encode(std::string_view bytes);

/// The bytes of standard base64 `text` (padding optional); nullopt when it is not base64.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace diffplane::native
