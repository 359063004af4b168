#pragma once

#include <random>
#include <string>

namespace diffplane {

/// A new job id: 32 hex digits drawn from `random` (a generator seeded with enough
/// entropy that two incarnations of a cluster never share its sequence).
inline std::string new_job_id(std::mt19937_64& random) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string id(32, '0');
  auto a = random();
  auto b = random();
  for (int i = 0; i < 16; ++i) {
    id[i] = digits[(a >> (4 * i)) & 0xF];
    id[16 + i] = digits[(b >> (4 * i)) & 0xF];
  }
  return id;
}

} // namespace diffplane
