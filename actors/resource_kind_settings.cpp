#include "actors/resource_kind_settings.hpp"

namespace diffplane::resources {

namespace {

constexpr std::size_t max_name_length = 63;
constexpr std::int64_t day_ms = 86'400'000;
constexpr std::int64_t day_seconds = 86'400;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-';
}

} // namespace

std::string resource_name_problem(const std::string& value, const std::string& field) {
  // A kind becomes the service name resources.<kind>.
  bool ok = !value.empty() && value.size() <= max_name_length && value.front() != '-' &&
            value.front() != '_';
  for (char c : value)
    ok = ok && is_name_char(c);
  if (ok)
    return {};
  return field + " must be 1 to 63 letters, digits, '_' or '-', starting with a letter "
                 "or digit";
}

std::string setting_problem(const setting_value& value, const std::string& field,
                            std::int64_t most) {
  if (!value.given || (value.integer && value.value >= 1 && value.value <= most))
    return {};
  return field + " must be an integer from 1 to " + std::to_string(most) + ", or null";
}

std::int64_t checked_setting(const setting_value& value, const char* field,
                             std::int64_t most, std::string& failed_field,
                             std::string& message) {
  if (!failed_field.empty())
    return 0;
  if (auto problem = setting_problem(value, field, most); !problem.empty()) {
    failed_field = field;
    message = std::move(problem);
    return 0;
  }
  return value.given ? value.value : 0;
}

kind_settings_check check_kind_settings(const std::string& kind,
                                        const kind_settings_input& input) {
  kind_settings_check check;
  auto& s = check.settings;
  s.kind = kind;
  auto bounded = [&](const setting_value& value, const char* field, std::int64_t most) {
    return checked_setting(value, field, most, check.field, check.message);
  };
  s.backoff_base_ms = bounded(input.backoff_base_ms, "backoffBaseMs", day_ms);
  s.backoff_cap_ms = bounded(input.backoff_cap_ms, "backoffCapMs", day_ms);
  s.timeout_seconds = static_cast<std::int32_t>(
      bounded(input.timeout_seconds, "timeoutSeconds", day_seconds));
  s.inform_interval_seconds = static_cast<std::int32_t>(
      bounded(input.inform_interval_seconds, "informIntervalSeconds", day_seconds));
  if (check.field.empty() && s.backoff_base_ms > 0 && s.backoff_cap_ms > 0 &&
      s.backoff_cap_ms < s.backoff_base_ms) {
    check.field = "backoffCapMs";
    check.message = "backoffCapMs must not be below backoffBaseMs";
  }
  if (!check.field.empty())
    check.settings = resource_kind_record{};
  return check;
}

} // namespace diffplane::resources
