#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace diffplane::bench {

/// The string fields of the elements of a JSON array: one row per element, one column
/// per key asked for.
class field_table {
public:
  explicit field_table(std::size_t columns) : columns_(columns) {}

  std::size_t rows() const { return rows_; }

  /// The string at key `column` of element `row`, or "" as string_field would give it.
  std::string& at(std::size_t row, std::size_t column) {
    return cells_[row * columns_ + column];
  }

  /// Appends a row of empty cells.
  void add_row() {
    cells_.resize(cells_.size() + columns_);
    ++rows_;
  }

private:
  std::size_t columns_;
  std::size_t rows_ = 0;
  std::vector<std::string> cells_;
};

/// Per element of the JSON array `body`, the string at each of `keys` (see string_field);
/// nullopt when `body` is malformed or not an array. Builds no DOM.
std::optional<field_table> scan_array_fields(std::string_view body,
                                             std::span<const std::string_view> keys);

/// The string at `key` of the JSON object `body`, or "" when `body` is malformed or not
/// an object, or the value is absent or not a string. Builds no DOM.
std::string scan_string_field(std::string_view body, std::string_view key);

} // namespace diffplane::bench
