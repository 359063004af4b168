#include "gateway/resource_namespace_codecs.hpp"

#include "actors/resource_namespace_settings.hpp"

#include "gateway/json_codecs.hpp"
#include "gateway/resource_codecs.hpp"

#include <nlohmann/json.hpp>

namespace diffplane::gateway {

namespace {

using json = nlohmann::json;

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
  // The rules are the domain's, shared with the native configure_namespace frame.
  resources::namespace_settings_input input;
  input.max_workers = setting_of(root, "maxWorkers");
  input.expiry_ttl_seconds = setting_of(root, "expiryTtlSeconds");
  input.synced_retention_seconds = setting_of(root, "syncedRetentionSeconds");
  input.deleted_retention_seconds = setting_of(root, "deletedRetentionSeconds");
  auto checked = resources::check_namespace_settings(out.name, input);
  if (!checked.field.empty())
    throw bad_input(checked.field, checked.message);
  out.settings = std::move(checked.settings);
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
