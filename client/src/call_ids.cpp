#include "call_ids.hpp"

#include <chrono>
#include <cstdint>
#include <random>

namespace diffplane::client {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

/// One generator per thread, seeded with 256 bits: seeded with one 32-bit value, two of
/// the many processes calling one cluster would share a seed, and so every id, once in
/// 2^32 pairs, and a repeated id makes a new call answer with another caller's job.
std::mt19937_64& generator() {
  thread_local std::mt19937_64 random = [] {
    std::random_device entropy;
    std::seed_seq seed{entropy(), entropy(), entropy(), entropy(),
                       entropy(), entropy(), entropy(), entropy()};
    return std::mt19937_64{seed};
  }();
  return random;
}

void append_hex(std::string& out, std::uint64_t bits, std::size_t digits) {
  for (std::size_t i = 0; i < digits; ++i, bits >>= 4)
    out += hex_digits[bits & 0xF];
}

} // namespace

std::string new_call_id() {
  using namespace std::chrono;
  auto ms = static_cast<std::uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
  std::string id(12, '0');
  for (int i = 11; i >= 0; --i, ms >>= 4)
    id[static_cast<std::size_t>(i)] = hex_digits[ms & 0xF];
  append_hex(id, generator()(), 16);
  append_hex(id, generator()(), 4);
  return id;
}

std::string random_hex(std::size_t digits) {
  std::string out;
  out.reserve(digits);
  while (out.size() < digits) {
    auto take = std::min<std::size_t>(16, digits - out.size());
    append_hex(out, generator()(), take);
  }
  return out;
}

} // namespace diffplane::client
