#include "actors/secrets.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace diffplane::secrets {

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes * 2);
  for (auto b : raw) {
    hex.push_back(digits[b >> 4]);
    hex.push_back(digits[b & 0xF]);
  }
  return hex;
}

std::string new_api_secret() {
  return "sk_" + random_hex(32);
}

std::string new_cluster_id() {
  return random_hex(12);
}

std::string sha256(std::string_view text) {
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the implementation up again on every
  // digest (locks, a hash table, its init check), which cost more than hashing a secret.
  // The gateway hashes the API secret of every request.
  static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (algorithm == nullptr)
    throw std::runtime_error("OpenSSL has no SHA-256");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, algorithm, nullptr) != 1)
    throw std::runtime_error("OpenSSL SHA-256 failed");
  return std::string(reinterpret_cast<const char*>(digest), length);
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  // Hashing first makes the comparison length-independent too.
  auto ha = sha256(a);
  auto hb = sha256(b);
  return CRYPTO_memcmp(ha.data(), hb.data(), ha.size()) == 0;
}

} // namespace diffplane::secrets
