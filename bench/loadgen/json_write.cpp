#include "bench/loadgen/json_write.hpp"

namespace diffplane::bench {

void append_json_string(std::string& out, std::string_view text) {
  static constexpr std::string_view hex = "0123456789abcdef";
  out.push_back('"');
  // Bytes that need no escape are copied in runs: ids and arguments are all such bytes.
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte != '"' && byte != '\\')
      continue;
    out.append(text.data() + run, i - run);
    out.push_back('\\');
    switch (byte) {
    case '"':
    case '\\':
      out.push_back(static_cast<char>(byte));
      break;
    case '\b':
      out.push_back('b');
      break;
    case '\f':
      out.push_back('f');
      break;
    case '\n':
      out.push_back('n');
      break;
    case '\r':
      out.push_back('r');
      break;
    case '\t':
      out.push_back('t');
      break;
    default:
      out.append("u00");
      out.push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 15]);
    }
    run = i + 1;
  }
  // Bytes from 0x80 pass through: JSON allows UTF-8 unescaped, as dump() writes it.
  out.append(text.data() + run, text.size() - run);
  out.push_back('"');
}

} // namespace diffplane::bench
