#pragma once

#include "actors/resource_messages.hpp"

#include <string>
#include <vector>

namespace diffplane::gateway {

/// An informer's resolution (docs/http-api.md, "Informers"): JSON text of an array of
/// resources in the POST /resources item shape, any number of them. Throws bad_input
/// naming the first malformed item and field ("resolution[3].kind").
std::vector<resource_input> decode_informed(const std::string& array_json);

} // namespace diffplane::gateway
