#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace diffplane::gateway {

class inform_reader;

/// A parsed POST /resources body, flat: its values in document order, each container
/// followed by its children, their strings in one arena (offsets are 32 bits: bodies are
/// far smaller). Read without a map node and a heap string per value, as nlohmann's DOM
/// would hold them, and an object's canonical text and msgpack are then written in one
/// walk: the server's CPU per inform fell by a quarter to a third. It promises to
/// accept exactly what json::parse(body, nullptr, false) accepts, up to `max_depth`,
/// and to write exactly what json::dump() and json::to_msgpack() write (tests/fuzz
/// checks both).
class inform_document {
public:
  enum class type : std::uint8_t { null, boolean, integer, unsigned_integer, real, string,
                                   array, object };

  struct value {
    type kind = type::null;
    bool boolean = false;
    std::uint32_t end = 0; // the index after this value and its children
    std::uint32_t key_at = 0, key_size = 0;
    std::uint32_t text_at = 0, text_size = 0;
    union {
      std::int64_t integer = 0;
      std::uint64_t unsigned_integer;
      double real;
    };
  };

  /// Arrays and objects nest at most this deep, else the text is refused: bounds the
  /// reader's recursion (decode_inform refuses bodies deeper than 64 levels before).
  static constexpr int max_depth = 512;

  /// False when the text is no JSON (or more than one value, or nests deeper than
  /// max_depth). The root is at index 0.
  bool parse(std::string_view body);

  const value& at(std::uint32_t index) const { return values_[index]; }
  std::uint32_t size() const { return static_cast<std::uint32_t>(values_.size()); }
  std::string_view key(const value& v) const { return {arena_.data() + v.key_at, v.key_size}; }
  std::string_view text(const value& v) const {
    return {arena_.data() + v.text_at, v.text_size};
  }

  /// The children of a container, in document order.
  template <class F> void for_each_child(std::uint32_t index, F&& f) const {
    for (auto child = index + 1; child < values_[index].end; child = values_[child].end)
      f(child);
  }

  /// The index of the member `name` of an object (the last one, as a DOM keeps), or 0.
  std::uint32_t member(std::uint32_t object, std::string_view name) const;

  /// The members of an object in the order a DOM holds them: keys sorted bytewise, the
  /// last of duplicate keys only. Appended to `out`.
  void sorted_members(std::uint32_t object, std::vector<std::uint32_t>& out) const;

  /// `index` as json::dump() and json::to_msgpack() write it, appended to each.
  void write(std::uint32_t index, std::string& text_out, std::string& msgpack_out);

private:
  friend class inform_reader;

  std::vector<value> values_;
  std::string arena_;
  std::vector<std::uint32_t> order_; // sorted_members of the objects being written
};

} // namespace diffplane::gateway
