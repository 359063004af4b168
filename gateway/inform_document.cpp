#include "gateway/inform_document.hpp"

#include "gateway/json_writer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace diffplane::gateway {

namespace {

template <class T> void append_number(std::string& out, T n) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, n);
  out.append(buffer, end);
}

/// As dump() writes a double: nlohmann's own shortest round-trip form ("1e+100",
/// "-0.0"), which std::to_chars does not match.
void append_real(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buffer[64];
  auto* end = nlohmann::detail::to_chars(buffer, buffer + sizeof buffer, d);
  out.append(buffer, end);
}

/// A marker byte and `value` big-endian in `size` bytes.
void put_marked(std::string& out, unsigned char marker, std::uint64_t value, int size) {
  out += static_cast<char>(marker);
  for (int shift = 8 * (size - 1); shift >= 0; shift -= 8)
    out += static_cast<char>((value >> shift) & 0xff);
}

void pack_unsigned(std::string& out, std::uint64_t n) {
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

/// Non-negative ones as unsigned, as nlohmann does (msgpack does not tell them apart).
void pack_integer(std::string& out, std::int64_t n) {
  auto bits = static_cast<std::uint64_t>(n);
  if (n >= 0)
    pack_unsigned(out, bits);
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

/// As a 32-bit float when that holds it exactly (nlohmann's write_compact_float).
void pack_real(std::string& out, double d) {
  if (d >= static_cast<double>(std::numeric_limits<float>::lowest()) &&
      d <= static_cast<double>(std::numeric_limits<float>::max()) &&
      static_cast<double>(static_cast<float>(d)) == d)
    put_marked(out, 0xca, std::bit_cast<std::uint32_t>(static_cast<float>(d)), 4);
  else
    put_marked(out, 0xcb, std::bit_cast<std::uint64_t>(d), 8);
}

void pack_string(std::string& out, std::string_view s) {
  const auto n = s.size();
  if (n <= 31)
    out += static_cast<char>(0xa0 | n);
  else if (n <= 0xff)
    put_marked(out, 0xd9, n, 1);
  else if (n <= 0xffff)
    put_marked(out, 0xda, n, 2);
  else
    put_marked(out, 0xdb, n, 4);
  out += s;
}

/// An array's (fix 0x90, 16-bit 0xdc) or a map's (0x80, 0xde) length; 32-bit one
/// marker above.
void pack_length(std::string& out, std::uint32_t n, unsigned char fix, unsigned char wide) {
  if (n <= 15)
    out += static_cast<char>(fix | n);
  else if (n <= 0xffff)
    put_marked(out, wide, n, 2);
  else
    put_marked(out, static_cast<unsigned char>(wide + 1), n, 4);
}

} // namespace

std::uint32_t inform_document::member(std::uint32_t object, std::string_view name) const {
  std::uint32_t found = 0;
  for_each_child(object, [&](std::uint32_t child) {
    if (key(values_[child]) == name)
      found = child;
  });
  return found;
}

void inform_document::sorted_members(std::uint32_t object,
                                     std::vector<std::uint32_t>& out) const {
  const auto first = out.size();
  for_each_child(object, [&](std::uint32_t child) { out.push_back(child); });
  auto less = [this](std::uint32_t a, std::uint32_t b) {
    return key(values_[a]) < key(values_[b]);
  };
  auto begin = out.begin() + static_cast<std::ptrdiff_t>(first);
  // The SDK sends most objects with their keys sorted already.
  if (!std::is_sorted(begin, out.end(), less))
    std::stable_sort(begin, out.end(), less);
  // Of equal keys, stable order leaves the last one sent last: keep it, as a DOM does.
  std::size_t kept = first;
  for (std::size_t i = first; i < out.size(); ++i) {
    if (i + 1 < out.size() && key(values_[out[i]]) == key(values_[out[i + 1]]))
      continue;
    out[kept++] = out[i];
  }
  out.resize(kept);
}

void inform_document::write(std::uint32_t index, std::string& text_out,
                            std::string& msgpack_out) {
  const auto& v = values_[index];
  switch (v.kind) {
  case type::null:
    text_out += "null";
    msgpack_out += '\xc0';
    return;
  case type::boolean:
    text_out += v.boolean ? "true" : "false";
    msgpack_out += v.boolean ? '\xc3' : '\xc2';
    return;
  case type::integer:
    append_number(text_out, v.integer);
    pack_integer(msgpack_out, v.integer);
    return;
  case type::unsigned_integer:
    append_number(text_out, v.unsigned_integer);
    pack_unsigned(msgpack_out, v.unsigned_integer);
    return;
  case type::real:
    append_real(text_out, v.real);
    pack_real(msgpack_out, v.real);
    return;
  case type::string:
    json_writer::append_string(text_out, text(v));
    pack_string(msgpack_out, text(v));
    return;
  case type::array: {
    std::uint32_t n = 0;
    for_each_child(index, [&](std::uint32_t) { ++n; });
    pack_length(msgpack_out, n, 0x90, 0xdc);
    text_out += '[';
    bool first = true;
    for_each_child(index, [&](std::uint32_t child) {
      if (!std::exchange(first, false))
        text_out += ',';
      write(child, text_out, msgpack_out);
    });
    text_out += ']';
    return;
  }
  case type::object: {
    // order_ is a stack shared by the nested objects being written, so that writing
    // allocates no vector per object.
    const auto from = order_.size();
    sorted_members(index, order_);
    const auto to = order_.size();
    pack_length(msgpack_out, static_cast<std::uint32_t>(to - from), 0x80, 0xde);
    text_out += '{';
    for (auto i = from; i < to; ++i) {
      const auto& member = values_[order_[i]];
      if (i != from)
        text_out += ',';
      json_writer::append_string(text_out, key(member));
      text_out += ':';
      pack_string(msgpack_out, key(member));
      write(order_[i], text_out, msgpack_out);
    }
    text_out += '}';
    order_.resize(from);
    return;
  }
  }
}

} // namespace diffplane::gateway
