#include "persistence/sql_arrays.hpp"

namespace diffplane::persistence::sql {

void array_literal::next_element() {
  if (!empty_)
    text_ += ',';
  empty_ = false;
}

void array_literal::add_text(std::string_view value) {
  next_element();
  text_.reserve(text_.size() + value.size() + 2);
  text_ += '"';
  // The runs between characters to escape are appended whole: char by char, each
  // append checked the capacity (array_literal::add_text was 8 % of the server's CPU
  // in a step of 1,000 changed informs).
  const char* run = value.data();
  const char* end = run + value.size();
  for (const char* p = run; p != end; ++p)
    if (*p == '"' || *p == '\\') {
      text_.append(run, p);
      text_ += '\\';
      run = p; // the character itself starts the next run
    }
  text_.append(run, end);
  text_ += '"';
}

void array_literal::add_text_or_null(std::string_view value) {
  if (value.empty())
    add_null();
  else
    add_text(value);
}

void array_literal::add_int(long long value) {
  next_element();
  text_ += std::to_string(value);
}

void array_literal::add_int_or_null(long long value) {
  if (value < 0)
    add_null();
  else
    add_int(value);
}

void array_literal::add_bool(bool value) {
  next_element();
  text_ += value ? 't' : 'f';
}

void array_literal::add_null() {
  next_element();
  text_ += "NULL";
}

std::string array_literal::take() {
  text_ += '}';
  std::string result;
  result.swap(text_);
  text_.push_back('{');
  empty_ = true;
  return result;
}

namespace {

/// The header of a one-dimensional array: dimensions, null flag, element type, then the
/// length and lower bound of its dimension.
constexpr std::size_t binary_header_size = 5 * 4;

void put_word(char* out, std::uint32_t value) {
  out[0] = static_cast<char>(value >> 24);
  out[1] = static_cast<char>(value >> 16);
  out[2] = static_cast<char>(value >> 8);
  out[3] = static_cast<char>(value);
}

} // namespace

binary_array::binary_array(element type) : type_(type), data_(binary_header_size, '\0') {}

void binary_array::add_word(std::uint32_t value) {
  char word[4];
  put_word(word, value);
  data_.append(word, 4);
}

void binary_array::add_text(std::string_view value) {
  ++count_;
  add_word(static_cast<std::uint32_t>(value.size()));
  data_.append(value);
}

void binary_array::add_text_or_null(std::string_view value) {
  if (value.empty())
    add_null();
  else
    add_text(value);
}

void binary_array::add_int(long long value) {
  ++count_;
  auto bits = static_cast<std::uint64_t>(value);
  if (type_ == element::integer) {
    add_word(4);
    add_word(static_cast<std::uint32_t>(bits));
    return;
  }
  add_word(8);
  add_word(static_cast<std::uint32_t>(bits >> 32));
  add_word(static_cast<std::uint32_t>(bits));
}

void binary_array::add_bool(bool value) {
  ++count_;
  add_word(1);
  data_ += value ? '\1' : '\0';
}

void binary_array::add_null() {
  ++count_;
  has_null_ = true;
  add_word(0xffffffffu); // length -1: NULL
}

std::string binary_array::take() {
  auto* header = data_.data();
  put_word(header, 1); // one dimension
  put_word(header + 4, has_null_ ? 1 : 0);
  put_word(header + 8, static_cast<std::uint32_t>(type_));
  put_word(header + 12, static_cast<std::uint32_t>(count_));
  put_word(header + 16, 1); // lower bound
  std::string result;
  result.swap(data_);
  data_.assign(binary_header_size, '\0');
  count_ = 0;
  has_null_ = false;
  return result;
}

std::string timestamp_of_ms(std::string_view expression) {
  std::string sql{"CASE WHEN "};
  sql.append(expression).append(" = 0 THEN NULL ELSE to_timestamp(");
  sql.append(expression).append("::double precision / 1000) END");
  return sql;
}

} // namespace diffplane::persistence::sql
