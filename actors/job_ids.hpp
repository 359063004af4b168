#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>

namespace diffplane {

/// A new job id: 32 lowercase hex digits, the first 12 the milliseconds since the epoch
/// at `now_ms`, the other 20 (80 bits) drawn from `random` (a generator seeded with
/// enough entropy that two incarnations of a cluster never share its sequence).
///
/// Ids in creation order make the inserts into the primary key of `jobs` append at its
/// right-hand edge, and a result's key lookup find a recently touched page: random ids
/// scattered both over every leaf of the key.
inline std::string new_job_id(std::mt19937_64& random, std::int64_t now_ms) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string id(32, '0');
  auto time = static_cast<std::uint64_t>(now_ms);
  for (int i = 11; i >= 0; --i, time >>= 4)
    id[i] = digits[time & 0xF];
  auto a = random();
  auto b = random();
  for (int i = 0; i < 16; ++i)
    id[12 + i] = digits[(a >> (4 * i)) & 0xF];
  for (int i = 0; i < 4; ++i)
    id[28 + i] = digits[(b >> (4 * i)) & 0xF];
  return id;
}

/// A new job id made now (by the system clock).
inline std::string new_job_id(std::mt19937_64& random) {
  using namespace std::chrono;
  return new_job_id(
      random,
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

} // namespace diffplane
