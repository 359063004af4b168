#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Group commit writes many rows with one statement. Passing each column as one array
// parameter keeps that statement the same whatever the number of rows: Postgres parses
// and plans a few hundred bytes instead of a VALUES list that grows with every row, and
// no value is spelled as an SQL literal.
namespace diffplane::persistence::sql {

/// The text form of a Postgres array (`{"a",NULL,"b"}`), built one element at a time.
class array_literal {
public:
  /// A text element, quoted; backslashes and double quotes escaped.
  void add_text(std::string_view value);
  /// A text element, or NULL when empty (our spelling of "none").
  void add_text_or_null(std::string_view value);
  void add_int(long long value);
  /// An integer element, or NULL when negative (our spelling of "none").
  void add_int_or_null(long long value);
  void add_bool(bool value);
  void add_null();

  /// The finished literal.
  std::string take();

private:
  void next_element();

  std::string text_{"{"};
  bool empty_ = true;
};

/// The binary form of a one-dimensional Postgres array (what array_send writes), built
/// one element at a time. Postgres reads each element by its length instead of parsing
/// quoted text (array_in was its top symbol in a step of 1,000 changed informs); sent
/// as a binary parameter (pqxx::binarystring) of a statement that casts it to the
/// array type of `element`.
class binary_array {
public:
  /// The element types our statements use, by their Postgres type OID.
  enum class element : std::uint32_t {
    boolean = 16,
    bigint = 20,
    integer = 23,
    text = 25
  };

  explicit binary_array(element type);

  /// A text element (text arrays only).
  void add_text(std::string_view value);
  /// A text element, or NULL when empty (our spelling of "none").
  void add_text_or_null(std::string_view value);
  /// An integer element (bigint or integer arrays).
  void add_int(long long value);
  void add_bool(bool value);
  void add_null();

  /// The finished array, in Postgres's binary format.
  std::string take();

private:
  void add_word(std::uint32_t value);

  element type_;
  std::string data_;
  std::int32_t count_ = 0;
  bool has_null_ = false;
};

/// SQL turning an epoch-milliseconds bigint expression into timestamptz, NULL for 0.
std::string timestamp_of_ms(std::string_view expression);

/// "$n::type[]" for the parameters first, first + 1, ... of the given array types.
template <class Types> std::string array_parameters(int first, const Types& types) {
  std::string text;
  for (const char* type : types) {
    if (!text.empty())
      text += ", ";
    text.append("$")
        .append(std::to_string(first++))
        .append("::")
        .append(type)
        .append("[]");
  }
  return text;
}

} // namespace diffplane::persistence::sql
