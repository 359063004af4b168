#include "actors/resource_namespace_settings.hpp"

namespace diffplane::resources {

namespace_settings_check check_namespace_settings(const std::string& name,
                                                  const namespace_settings_input& input) {
  namespace_settings_check check;
  auto& s = check.settings;
  s.name = name;
  auto bounded = [&](const setting_value& value, const char* field, std::int64_t most) {
    return checked_setting(value, field, most, check.field, check.message);
  };
  s.max_workers =
      static_cast<std::int32_t>(bounded(input.max_workers, "maxWorkers", max_workers_limit));
  s.expiry_ttl_seconds =
      bounded(input.expiry_ttl_seconds, "expiryTtlSeconds", max_namespace_seconds);
  s.synced_retention_seconds = bounded(input.synced_retention_seconds,
                                       "syncedRetentionSeconds", max_namespace_seconds);
  s.deleted_retention_seconds = bounded(input.deleted_retention_seconds,
                                        "deletedRetentionSeconds", max_namespace_seconds);
  if (!check.field.empty())
    check.settings = resource_namespace_record{};
  return check;
}

} // namespace diffplane::resources
