#pragma once

#include "actors/resource_kind_settings.hpp"
#include "actors/resource_messages.hpp"
#include "gateway/http_types.hpp"

#include <string>
#include <string_view>
#include <vector>

// The JSON of the resource routes (docs/http-api.md, "Resources"): decoders throw
// bad_input naming the field, as the other codecs do.
namespace diffplane::gateway {

/// Throws bad_input naming `field` unless `value` is a valid kind or namespace name.
void check_resource_name(const std::string& value, const std::string& field);
/// Throws bad_input naming `field` unless `value` is a valid object id.
void check_resource_id(const std::string& value, const std::string& field);

/// The JSON object body of a settings PUT (kinds, namespaces); bad_input naming "body"
/// when it is not one.
nlohmann::json settings_body(const http_request& request);

/// The member `name` of a settings body as the domain's rules read it.
resources::setting_value setting_of(const nlohmann::json& root, const char* name);

/// Most resources in one POST /resources.
inline constexpr std::size_t max_resources_per_inform = 1000;

/// POST /resources: {"resources": [...]} (1 to 1,000) or one resource object; a
/// malformed item names its index and field ("resources[3].kind").
resource_inform_request decode_inform(std::string_view body);

/// GET /resources: ?kind=&state=&namespace=&limit=&cursor=.
resource_query decode_resource_list(const http_request& request);

/// GET /resources/:kind/:id.
resource_query decode_resource_get(const http_request& request);

/// GET /resources-counts: ?kind=&namespace=.
resource_counts_query decode_resource_counts(const http_request& request);

/// GET /resources-kinds/:kind (no body) and PUT (with the settings).
resource_kind_request decode_resource_kind(const http_request& request);

std::string encode_resource_kind(const resource_kind_record& kind);
std::string encode_inform_results(const std::vector<inform_result>& results);
std::string encode_resource(const resource_record& resource);
std::string encode_resource_page(const resource_page& page);
/// {"counts": {...}} with every state, 0 when none.
std::string encode_resource_counts(const std::vector<resource_count>& counts);

} // namespace diffplane::gateway
