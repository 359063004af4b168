#pragma once

#include <cstddef>
#include <string>
#include <string_view>

// Randomness and hashing for secrets and ids (OpenSSL).
namespace diffplane::secrets {

/// `bytes` bytes from a cryptographically secure source, as lowercase hex.
std::string random_hex(std::size_t bytes);

/// A new cluster API secret: "sk_" and 64 hex characters.
std::string new_api_secret();

/// A new cluster id.
std::string new_cluster_id();

/// SHA-256 of `text` as 32 raw bytes; secrets are looked up by their hash.
std::string sha256(std::string_view text);

/// Compares two secrets in time independent of where they differ.
bool constant_time_equals(std::string_view a, std::string_view b);

} // namespace diffplane::secrets
