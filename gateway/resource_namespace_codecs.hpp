#pragma once

#include "actors/resource_namespaces.hpp"
#include "gateway/http_types.hpp"

#include <string>

// The JSON of the namespace and command routes of resources (docs/http-api.md,
// "Resources"): decoders throw bad_input naming the field.
namespace diffplane::gateway {

/// GET /resources-namespaces/:name (no body) and PUT (with the settings: maxWorkers,
/// expiryTtlSeconds, syncedRetentionSeconds, deletedRetentionSeconds; null or absent:
/// unlimited or off).
resource_namespace_request decode_resource_namespace(const http_request& request);

/// {"name", "maxWorkers", "expiryTtlSeconds", "syncedRetentionSeconds",
/// "deletedRetentionSeconds"}, null where unlimited or off.
std::string encode_resource_namespace(const resource_namespace_record& ns);

/// POST /resources/:kind/:id/invalidate (remove false) and DELETE /resources/:kind/:id.
resource_command decode_resource_command(const http_request& request, bool remove);

} // namespace diffplane::gateway
