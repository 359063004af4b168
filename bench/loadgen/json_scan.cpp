#include "bench/loadgen/json_scan.hpp"

#include <nlohmann/json.hpp>

namespace diffplane::bench {

namespace {

using json = nlohmann::json;

/// SAX handler that keeps only the string values of `keys` in the records at
/// `record_depth`: 1 for a top-level object, 2 for each element of a top-level array.
// Answers are checked, not trusted: any other shape ends the parse as a failure, and a
// repeated key counts by its last value, as it would in the DOM.
class field_collector {
public:
  field_collector(std::span<const std::string_view> keys, std::size_t record_depth,
                  field_table& table)
      : keys_(keys), record_depth_(record_depth), table_(table) {}

  bool null() { return value(kind::scalar); }
  bool boolean(bool) { return value(kind::scalar); }
  bool number_integer(json::number_integer_t) { return value(kind::scalar); }
  bool number_unsigned(json::number_unsigned_t) { return value(kind::scalar); }
  bool number_float(json::number_float_t, const json::string_t&) {
    return value(kind::scalar);
  }
  bool binary(json::binary_t&) { return value(kind::scalar); }
  bool string(json::string_t& text) { return value(kind::string, &text); }
  bool start_object(std::size_t) { return open(kind::object); }
  bool start_array(std::size_t) { return open(kind::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& name) {
    if (depth_ == record_depth_)
      column_ = column_of(name);
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const json::exception&) {
    return false;
  }

private:
  enum class kind { scalar, string, object, array };
  static constexpr std::size_t no_column = static_cast<std::size_t>(-1);

  bool open(kind what) {
    if (!value(what))
      return false;
    ++depth_;
    return true;
  }

  bool close() {
    --depth_;
    return true;
  }

  // Every value passes here before the nesting it may open; `text` is set for a string.
  bool value(kind what, const json::string_t* text = nullptr) {
    if (depth_ == 0 && what != (record_depth_ == 1 ? kind::object : kind::array))
      return false;
    if (depth_ + 1 == record_depth_) {
      table_.add_row();
    } else if (depth_ == record_depth_ && column_ != no_column) {
      auto& cell = table_.at(table_.rows() - 1, column_);
      // assign copies into the cell's own buffer and leaves the lexer its capacity.
      if (text != nullptr)
        cell.assign(*text);
      else
        cell.clear();
      column_ = no_column;
    }
    return true;
  }

  std::size_t column_of(std::string_view name) const {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] == name)
        return i;
    return no_column;
  }

  const std::span<const std::string_view> keys_;
  const std::size_t record_depth_;
  field_table& table_;
  std::size_t depth_ = 0;          ///< Objects and arrays open around the next event.
  std::size_t column_ = no_column; ///< The column the next value at record depth fills.
};

bool scan(std::string_view body, field_collector& collector) {
  return json::sax_parse(body.begin(), body.end(), &collector);
}

} // namespace

std::optional<field_table> scan_array_fields(std::string_view body,
                                             std::span<const std::string_view> keys) {
  field_table table(keys.size());
  field_collector collector(keys, 2, table);
  if (!scan(body, collector))
    return std::nullopt;
  return table;
}

std::string scan_string_field(std::string_view body, std::string_view key) {
  const std::string_view keys[] = {key};
  field_table table(1);
  field_collector collector(keys, 1, table);
  if (!scan(body, collector))
    return {};
  return std::move(table.at(0, 0));
}

} // namespace diffplane::bench
