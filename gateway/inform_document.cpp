#include "gateway/inform_document.hpp"

#include "gateway/json_writer.hpp"
#include "persistence/msgpack_writer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
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
    persistence::msgpack_writer::put_integer(msgpack_out, v.integer);
    return;
  case type::unsigned_integer:
    append_number(text_out, v.unsigned_integer);
    persistence::msgpack_writer::put_unsigned(msgpack_out, v.unsigned_integer);
    return;
  case type::real:
    append_real(text_out, v.real);
    persistence::msgpack_writer::put_real(msgpack_out, v.real);
    return;
  case type::string:
    json_writer::append_string(text_out, text(v));
    persistence::msgpack_writer::put_string(msgpack_out, text(v));
    return;
  case type::array: {
    std::uint32_t n = 0;
    for_each_child(index, [&](std::uint32_t) { ++n; });
    persistence::msgpack_writer::put_array_header(msgpack_out, n);
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
    persistence::msgpack_writer::put_map_header(msgpack_out, static_cast<std::uint32_t>(to - from));
    text_out += '{';
    for (auto i = from; i < to; ++i) {
      const auto& member = values_[order_[i]];
      if (i != from)
        text_out += ',';
      json_writer::append_string(text_out, key(member));
      text_out += ':';
      persistence::msgpack_writer::put_string(msgpack_out, key(member));
      write(order_[i], text_out, msgpack_out);
    }
    text_out += '}';
    order_.resize(from);
    return;
  }
  }
}

} // namespace diffplane::gateway
