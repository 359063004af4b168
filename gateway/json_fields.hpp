#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The hottest bodies (a create, a result) are small objects of which a decoder reads a
// few members. Building nlohmann's DOM for them (a std::map per object, a node per value)
// was 7 % of the HTTP thread's CPU in the saturated cycle; these types keep only the
// members a decoder names, read by a SAX pass.
namespace diffplane::gateway {

/// One member of a JSON object as a decoder sees it.
struct json_field {
  enum class kind { absent, null, boolean, number, string, object, other };
  kind type = kind::absent;
  bool flag = false;
  double number = 0;
  std::string text;
};

/// The named members of one JSON object. A member can name the fields of its own value,
/// kept when that value is an object (`nest`).
class json_fields {
public:
  json_fields(std::initializer_list<std::string_view> names);

  /// Keeps the members of `name`'s value in `inner` when it is an object.
  json_fields& nest(std::string_view name, json_fields& inner);

  /// The member `name` (one of those given at construction).
  const json_field& operator[](std::string_view name) const;

  /// The slot for member `name`, or nullptr when it is not kept; `inner` receives the
  /// nested fields of that member, if any.
  json_field* slot(std::string_view name, json_fields*& inner);

  /// Forgets every captured value (a repeated member replaces the earlier one whole).
  void clear();

private:
  std::vector<std::pair<std::string_view, json_field>> fields_;
  std::vector<std::pair<std::string_view, json_fields*>> nested_;
};

enum class json_read { ok, invalid, not_an_object };

/// Reads `body`, which must be one JSON object, into `root`. A repeated member counts
/// with its last value, as in a DOM.
json_read read_json_fields(std::string_view body, json_fields& root);

} // namespace diffplane::gateway
