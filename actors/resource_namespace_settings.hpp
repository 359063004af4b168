#pragma once

#include "actors/resource_kind_settings.hpp"
#include "persistence/resource_namespace_records.hpp"

#include <string>

// The rules of a namespace's limits (docs/http-api.md, "PUT
// /resources-namespaces/:name"), apart from any wire format, like a kind's settings
// (resource_kind_settings.hpp): the HTTP gateway and the native listener check them here,
// so both refuse the same limits with the same field and message.
namespace diffplane::resources {

/// The most maxWorkers may be.
inline constexpr std::int64_t max_workers_limit = 100'000;
/// The most any namespace time may be, in seconds: ten years (longer is a mistake, not a
/// setting).
inline constexpr std::int64_t max_namespace_seconds = 315'360'000;

/// The limits of a namespace as a request carries them, named as in the HTTP body.
struct namespace_settings_input {
  setting_value max_workers;               ///< "maxWorkers"
  setting_value expiry_ttl_seconds;        ///< "expiryTtlSeconds"
  setting_value synced_retention_seconds;  ///< "syncedRetentionSeconds"
  setting_value deleted_retention_seconds; ///< "deletedRetentionSeconds"
};

/// The outcome of checking a request's limits: `settings` when `field` is empty, else
/// the first field that breaks a rule and why.
struct namespace_settings_check {
  resource_namespace_record settings;
  std::string field;
  std::string message;
};

/// Checks the limits of namespace `name` (a valid name): each an integer from 1 to its
/// bound, or not given (unlimited or off).
namespace_settings_check check_namespace_settings(const std::string& name,
                                                  const namespace_settings_input& input);

} // namespace diffplane::resources
