#pragma once

#include <bit>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

/// Msgpack written byte for byte as nlohmann::json::to_msgpack writes it, for the places
/// that write it without building a json value first: the work job's arguments
/// (resource_work_args.cpp) and POST /resources' document (gateway/inform_document.cpp).
/// Stored bytes and hashes compare equal to nlohmann's, so each form is its choice.
namespace diffplane::persistence::msgpack_writer {

/// A marker byte and then `value` big-endian in `size` bytes.
inline void put_marked(std::string& out, unsigned char marker, std::uint64_t value,
                       int size) {
  out += static_cast<char>(marker);
  for (int shift = 8 * (size - 1); shift >= 0; shift -= 8)
    out += static_cast<char>((value >> shift) & 0xff);
}

/// A positive fixint, else the first of uint 8/16/32/64 to hold it.
inline void put_unsigned(std::string& out, std::uint64_t n) {
  if (n < 128)
    out += static_cast<char>(n);
  else if (n <= 0xff)
    put_marked(out, 0xcc, n, 1);
  else if (n <= 0xffff)
    put_marked(out, 0xcd, n, 2);
  else if (n <= 0xffffffff)
    put_marked(out, 0xce, n, 4);
  else
    put_marked(out, 0xcf, n, 8);
}

/// Not negative: as unsigned (msgpack does not tell them apart); else a negative fixint
/// or the first of int 8/16/32/64 to hold it.
inline void put_integer(std::string& out, std::int64_t n) {
  const auto bits = static_cast<std::uint64_t>(n);
  if (n >= 0)
    put_unsigned(out, bits);
  else if (n >= -32)
    out += static_cast<char>(bits & 0xff);
  else if (n >= std::numeric_limits<std::int8_t>::min())
    put_marked(out, 0xd0, bits, 1);
  else if (n >= std::numeric_limits<std::int16_t>::min())
    put_marked(out, 0xd1, bits, 2);
  else if (n >= std::numeric_limits<std::int32_t>::min())
    put_marked(out, 0xd2, bits, 4);
  else
    put_marked(out, 0xd3, bits, 8);
}

/// A float 32 when that holds the double exactly (nlohmann's write_compact_float),
/// else a float 64.
inline void put_real(std::string& out, double d) {
  if (d >= static_cast<double>(std::numeric_limits<float>::lowest()) &&
      d <= static_cast<double>(std::numeric_limits<float>::max()) &&
      static_cast<double>(static_cast<float>(d)) == d)
    put_marked(out, 0xca, std::bit_cast<std::uint32_t>(static_cast<float>(d)), 4);
  else
    put_marked(out, 0xcb, std::bit_cast<std::uint64_t>(d), 8);
}

/// A fixstr, else str 8/16/32 (never bin).
inline void put_string(std::string& out, std::string_view text) {
  const auto n = text.size();
  if (n <= 31)
    out += static_cast<char>(0xa0 | n);
  else if (n <= 0xff)
    put_marked(out, 0xd9, n, 1);
  else if (n <= 0xffff)
    put_marked(out, 0xda, n, 2);
  else
    put_marked(out, 0xdb, n, 4);
  out += text;
}

/// The header of an array of `n` values: fixarray, array 16 or array 32.
inline void put_array_header(std::string& out, std::uint32_t n) {
  if (n <= 15)
    out += static_cast<char>(0x90 | n);
  else
    put_marked(out, n <= 0xffff ? 0xdc : 0xdd, n, n <= 0xffff ? 2 : 4);
}

/// The header of a map of `n` members: fixmap, map 16 or map 32.
inline void put_map_header(std::string& out, std::uint32_t n) {
  if (n <= 15)
    out += static_cast<char>(0x80 | n);
  else
    put_marked(out, n <= 0xffff ? 0xde : 0xdf, n, n <= 0xffff ? 2 : 4);
}

} // namespace diffplane::persistence::msgpack_writer
