#include "bench/loadgen/payload.hpp"

namespace diffplane::bench {

namespace {

std::string msgpack_array_of(std::uint64_t value) {
  std::string out(1, '\x91'); // fixarray of one element
  auto big_endian = [&](unsigned char tag, int bytes) {
    out.push_back(static_cast<char>(tag));
    for (int i = bytes - 1; i >= 0; --i)
      out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  };
  if (value < 0x80)
    out.push_back(static_cast<char>(value)); // positive fixint
  else if (value <= 0xff)
    big_endian(0xcc, 1);
  else if (value <= 0xffff)
    big_endian(0xcd, 2);
  else if (value <= 0xffffffff)
    big_endian(0xce, 4);
  else
    big_endian(0xcf, 8);
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                   (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                   static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(alphabet[(n >> 6) & 63]);
    out.push_back(alphabet[n & 63]);
  }
  if (const auto rest = bytes.size() - i; rest > 0) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                   (rest == 2 ? static_cast<unsigned char>(bytes[i + 1]) << 8 : 0);
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? alphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '.' || c == '~';
}

} // namespace

std::string job_arguments(std::uint64_t sequence) {
  return base64(msgpack_array_of(sequence));
}

std::string path_segment(std::string_view text) {
  static constexpr std::string_view hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (unreserved(c)) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 15]);
    }
  }
  return out;
}

} // namespace diffplane::bench
