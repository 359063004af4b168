#include "gateway/resource_namespace_codecs.hpp"

#include "gateway/json_codecs.hpp"
#include "gateway/resource_codecs.hpp"

#include <nlohmann/json.hpp>

namespace diffplane::gateway {

namespace {

using json = nlohmann::json;

constexpr std::int64_t max_workers_limit = 100'000;
/// Ten years: longer is a mistake, not a setting.
constexpr std::int64_t max_seconds = 315'360'000;

json positive_or_null(std::int64_t value) {
  return value > 0 ? json(value) : json(nullptr);
}

} // namespace

resource_namespace_request decode_resource_namespace(const http_request& request) {
  resource_namespace_request out;
  out.name = request.param("name");
  check_resource_name(out.name, "name");
  if (request.method != http_method::put)
    return out;
  out.change = true;
  auto root = settings_body(request);
  out.settings.name = out.name;
  out.settings.max_workers =
      static_cast<std::int32_t>(optional_positive(root, "maxWorkers", max_workers_limit));
  out.settings.expiry_ttl_seconds =
      optional_positive(root, "expiryTtlSeconds", max_seconds);
  out.settings.synced_retention_seconds =
      optional_positive(root, "syncedRetentionSeconds", max_seconds);
  out.settings.deleted_retention_seconds =
      optional_positive(root, "deletedRetentionSeconds", max_seconds);
  return out;
}

std::string encode_resource_namespace(const resource_namespace_record& ns) {
  return json{{"name", ns.name},
              {"maxWorkers", positive_or_null(ns.max_workers)},
              {"expiryTtlSeconds", positive_or_null(ns.expiry_ttl_seconds)},
              {"syncedRetentionSeconds", positive_or_null(ns.synced_retention_seconds)},
              {"deletedRetentionSeconds", positive_or_null(ns.deleted_retention_seconds)}}
      .dump();
}

resource_command decode_resource_command(const http_request& request, bool remove) {
  resource_command command;
  command.kind = request.param("kind");
  check_resource_name(command.kind, "kind");
  command.id = request.param("id");
  check_resource_id(command.id, "id");
  command.remove = remove;
  return command;
}

} // namespace diffplane::gateway
