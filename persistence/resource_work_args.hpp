#pragma once

#include "persistence/resource_records.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// A resource's work job takes its argument from the resource: the job row keeps the one
// it was created with, and a restart gives a queued work the newest object from the
// resource's row (sql::newest_work_args), so a coalesced inform writes no job row.
namespace diffplane::persistence {

/// Standard base64 (with padding), the SDK's payload encoding.
std::string base64_encode(const std::vector<std::uint8_t>& bytes);
std::string base64_encode(std::string_view bytes);

/// Decodes standard base64 (with padding); false when `text` is not.
bool base64_decode(std::string_view text, std::vector<std::uint8_t>& out);

/// The work job's targetArgs, as the SDK encodes arguments: base64 of the msgpack of
/// [{"kind", "id", "object", "version", "namespace", "attempt"}]. `object_msgpack`, when
/// not empty, is the object as msgpack (the same bytes, without parsing object_json).
std::string work_args(const resource_record& resource,
                      std::string_view object_msgpack = {});

/// The object id a work's targetArgs name; empty when they are not a work's.
std::string work_object_id(std::string_view target_args);

} // namespace diffplane::persistence
