#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace diffplane::bench {

/// The job arguments for call number `sequence`: base64 of the msgpack array [sequence],
/// the shape the SDK sends; the server stores it opaquely and workers echo it back.
std::string job_arguments(std::uint64_t sequence);

/// `text` percent-encoded for use as one URL path segment.
std::string path_segment(std::string_view text);

} // namespace diffplane::bench
