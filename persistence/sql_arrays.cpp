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
  for (char c : value) {
    if (c == '"' || c == '\\')
      text_ += '\\';
    text_ += c;
  }
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

std::string timestamp_of_ms(std::string_view expression) {
  std::string sql{"CASE WHEN "};
  sql.append(expression).append(" = 0 THEN NULL ELSE to_timestamp(");
  sql.append(expression).append("::double precision / 1000) END");
  return sql;
}

} // namespace diffplane::persistence::sql
