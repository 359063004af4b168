#include "gateway/json_fields.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace diffplane::gateway {

json_fields::json_fields(std::initializer_list<std::string_view> names) {
  for (auto name : names)
    fields_.emplace_back(name, json_field{});
}

json_fields& json_fields::nest(std::string_view name, json_fields& inner) {
  nested_.emplace_back(name, &inner);
  return *this;
}

const json_field& json_fields::operator[](std::string_view name) const {
  for (const auto& [key, field] : fields_)
    if (key == name)
      return field;
  throw std::logic_error("json_fields: no member named " + std::string{name});
}

json_field* json_fields::slot(std::string_view name, json_fields*& inner) {
  inner = nullptr;
  for (auto& [key, field] : fields_)
    if (key == name) {
      for (auto& [nested_key, fields] : nested_)
        if (nested_key == name)
          inner = fields;
      return &field;
    }
  return nullptr;
}

void json_fields::clear() {
  for (auto& [key, field] : fields_)
    field = json_field{};
  for (auto& [key, fields] : nested_)
    fields->clear();
}

namespace {

using json = nlohmann::json;

/// Fills json_fields from SAX events. Each open object or array has a frame: the fields
/// kept for that object, or none (arrays, and objects no decoder asked for).
class fields_reader : public nlohmann::json_sax<json> {
public:
  explicit fields_reader(json_fields& root) : root_(root) {}

  bool root_is_object = false;

  bool null() override {
    value(json_field::kind::null);
    return true;
  }
  bool boolean(bool flag) override {
    if (auto* field = value(json_field::kind::boolean))
      field->flag = flag;
    return true;
  }
  bool number_integer(number_integer_t number) override {
    return number_value(static_cast<double>(number));
  }
  bool number_unsigned(number_unsigned_t number) override {
    return number_value(static_cast<double>(number));
  }
  bool number_float(number_float_t number, const string_t&) override {
    return number_value(number);
  }
  bool string(string_t& text) override {
    if (auto* field = value(json_field::kind::string))
      field->text = std::move(text);
    return true;
  }
  bool binary(binary_t&) override {
    value(json_field::kind::other);
    return true;
  }

  bool start_object(std::size_t) override {
    if (frames_.empty()) {
      root_is_object = true;
      root_.clear();
      frames_.push_back(&root_);
      return true;
    }
    auto* field = take_pending();
    if (field != nullptr)
      field->type = json_field::kind::object;
    // A kept member's object fills its nested fields; any other object is skipped.
    frames_.push_back(field != nullptr ? pending_inner_ : nullptr);
    pending_inner_ = nullptr;
    return true;
  }
  bool key(string_t& name) override {
    auto* fields = frames_.back();
    pending_ = fields != nullptr ? fields->slot(name, pending_inner_) : nullptr;
    if (pending_ != nullptr) {
      *pending_ = json_field{};
      if (pending_inner_ != nullptr)
        pending_inner_->clear();
    }
    return true;
  }
  bool end_object() override {
    frames_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    if (auto* field = take_pending())
      field->type = json_field::kind::other;
    pending_inner_ = nullptr;
    frames_.push_back(nullptr);
    return true;
  }
  bool end_array() override {
    frames_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception&) override {
    return false;
  }

private:
  json_field* take_pending() {
    auto* field = pending_;
    pending_ = nullptr;
    return field;
  }

  bool number_value(double number) {
    if (auto* field = value(json_field::kind::number))
      field->number = number;
    return true;
  }

  /// The kept member a value that is not an object or array belongs to, marked with its
  /// kind; nullptr when no decoder asked for it.
  json_field* value(json_field::kind kind) {
    auto* field = take_pending();
    if (field != nullptr)
      field->type = kind;
    pending_inner_ = nullptr;
    return field;
  }

  json_fields& root_;
  std::vector<json_fields*> frames_;
  json_field* pending_ = nullptr;
  json_fields* pending_inner_ = nullptr;
};

} // namespace

json_read read_json_fields(std::string_view body, json_fields& root) {
  fields_reader reader{root};
  if (!json::sax_parse(body, &reader))
    return json_read::invalid;
  return reader.root_is_object ? json_read::ok : json_read::not_an_object;
}

} // namespace diffplane::gateway
