#pragma once

#include "persistence/resource_records.hpp"

#include <cstdint>
#include <string>

// The rules of a kind's controller settings (docs/http-api.md, "PUT
// /resources-kinds/:kind"), apart from any wire format: the HTTP gateway reads them from
// JSON and the native listener from msgpack, and both check them here, so the two edges
// accept the same settings and refuse the rest with the same field and message.
namespace diffplane::resources {

/// One setting as an edge read it: absent or null (the server's default), an integer,
/// or a value of another type.
struct setting_value {
  bool given = false;
  /// Given and an integer (a larger one than int64 holds counts as int64's largest).
  bool integer = false;
  std::int64_t value = 0;
};

/// The settings of a kind as a request carries them, named as in the HTTP body.
struct kind_settings_input {
  setting_value backoff_base_ms;         ///< "backoffBaseMs"
  setting_value backoff_cap_ms;          ///< "backoffCapMs"
  setting_value timeout_seconds;         ///< "timeoutSeconds"
  setting_value inform_interval_seconds; ///< "informIntervalSeconds"
};

/// The outcome of checking a request's settings: `settings` when `field` is empty, else
/// the first field that breaks a rule and why.
struct kind_settings_check {
  resource_kind_record settings;
  std::string field;
  std::string message;
};

/// Why `value` is not a valid kind or namespace name (1 to 63 letters, digits, '_' or
/// '-', starting with a letter or digit), naming `field`; empty when it is one.
std::string resource_name_problem(const std::string& value, const std::string& field);

/// Why `value` is neither absent nor an integer from 1 to `most`, naming `field`; empty
/// when it is one of those (the rule of every numeric setting, of namespaces too).
std::string setting_problem(const setting_value& value, const std::string& field,
                            std::int64_t most);

/// The value of `value` (0 when not given: the default, unlimited or off) when it keeps
/// setting_problem's rule; else 0, and `field` and `message` say why, unless an earlier
/// setting already set them (then it is not looked at: the first one is named).
std::int64_t checked_setting(const setting_value& value, const char* field,
                             std::int64_t most, std::string& failed_field,
                             std::string& message);

/// Checks the settings of `kind` (a valid name) against the rules: each an integer from
/// 1 to its bound or not given, and a cap not below the base.
kind_settings_check check_kind_settings(const std::string& kind,
                                        const kind_settings_input& input);

} // namespace diffplane::resources
