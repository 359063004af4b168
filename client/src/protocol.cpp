#include "diffplane/protocol.hpp"

#include <algorithm>
#include <limits>

namespace diffplane::protocol {

std::uint32_t read_length(const unsigned char* prefix) {
  return (std::uint32_t{prefix[0]} << 24) | (std::uint32_t{prefix[1]} << 16) |
         (std::uint32_t{prefix[2]} << 8) | std::uint32_t{prefix[3]};
}

void write_length(std::uint32_t length, char* out) {
  out[0] = static_cast<char>((length >> 24) & 0xff);
  out[1] = static_cast<char>((length >> 16) & 0xff);
  out[2] = static_cast<char>((length >> 8) & 0xff);
  out[3] = static_cast<char>(length & 0xff);
}

msgpack::object_handle parse_value(const char* data, std::size_t size,
                                   std::size_t depth) {
  // A container claiming n elements makes the decoder allocate n objects before it
  // reads them: bound every claim by the body's own size.
  msgpack::unpack_limit limit{size, size / 2 + 1, size, size, size, depth};
  std::size_t offset = 0;
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(data, size, offset, nullptr, nullptr, limit);
  } catch (const std::exception& e) {
    throw protocol_error("bad_frame", std::string{"not msgpack: "} + e.what());
  }
  if (offset != size)
    throw protocol_error("bad_frame", "bytes after the msgpack value");
  return handle;
}

msgpack::object_handle parse(const char* data, std::size_t size) {
  auto handle = parse_value(data, size, max_depth);
  const auto& body = handle.get();
  if (body.type != msgpack::type::ARRAY || body.via.array.size == 0 ||
      body.via.array.ptr[0].type != msgpack::type::POSITIVE_INTEGER)
    throw protocol_error("bad_frame",
                         "a frame is a msgpack array starting with its type");
  return handle;
}

frame_type type_of(const msgpack::object& body) {
  return static_cast<frame_type>(body.via.array.ptr[0].via.u64 & 0xff);
}

void read_settings(const msgpack::object& map, setting_fields fields) {
  if (map.type != msgpack::type::MAP)
    throw msgpack::type_error();
  for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& entry = map.via.map.ptr[i];
    if (entry.key.type != msgpack::type::STR)
      continue;
    std::string_view key{entry.key.via.str.ptr, entry.key.via.str.size};
    kind_setting* setting = nullptr;
    for (const auto& [name, field] : fields)
      if (key == name)
        setting = field;
    if (setting == nullptr)
      continue;
    // Never throws on a value: a wrong one is the server's to refuse, naming it.
    const auto& value = entry.val;
    *setting = {};
    if (value.type == msgpack::type::NIL)
      continue;
    setting->given = true;
    if (value.type == msgpack::type::POSITIVE_INTEGER) {
      setting->integer = true;
      setting->value = static_cast<std::int64_t>(std::min<std::uint64_t>(
          value.via.u64,
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())));
    } else if (value.type == msgpack::type::NEGATIVE_INTEGER) {
      setting->integer = true;
      setting->value = value.via.i64;
    }
  }
}

} // namespace diffplane::protocol

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  const msgpack::object& convert<diffplane::protocol::call_options>::operator()(
      const msgpack::object& o, diffplane::protocol::call_options& v) const {
    if (o.type != msgpack::type::MAP)
      throw msgpack::type_error();
    for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
      const auto& entry = o.via.map.ptr[i];
      if (entry.key.type != msgpack::type::STR)
        continue;
      std::string_view key{entry.key.via.str.ptr, entry.key.via.str.size};
      if (key == "background")
        entry.val.convert(v.background);
      else if (key == "retries")
        entry.val.convert(v.retries);
      else if (key == "timeout_seconds")
        entry.val.convert(v.timeout_seconds);
      else if (key == "predictive_retries")
        entry.val.convert(v.predictive_retries);
      else if (key == "cache_key")
        entry.val.convert(v.cache_key);
      else if (key == "cache_ttl_seconds")
        entry.val.convert(v.cache_ttl_seconds);
      else if (key == "durable")
        entry.val.convert(v.durable);
      else if (key == "committed_result")
        entry.val.convert(v.committed_result);
    }
    return o;
  }

  const msgpack::object& convert<diffplane::protocol::kind_settings_map>::operator()(
      const msgpack::object& o, diffplane::protocol::kind_settings_map& v) const {
    diffplane::protocol::read_settings(o, {{"backoffBaseMs", &v.backoff_base_ms},
                                           {"backoffCapMs", &v.backoff_cap_ms},
                                           {"timeoutSeconds", &v.timeout_seconds},
                                           {"informIntervalSeconds",
                                            &v.inform_interval_seconds}});
    return o;
  }

  const msgpack::object& convert<diffplane::protocol::namespace_settings_map>::operator()(
      const msgpack::object& o, diffplane::protocol::namespace_settings_map& v) const {
    diffplane::protocol::read_settings(
        o, {{"maxWorkers", &v.max_workers},
            {"expiryTtlSeconds", &v.expiry_ttl_seconds},
            {"syncedRetentionSeconds", &v.synced_retention_seconds},
            {"deletedRetentionSeconds", &v.deleted_retention_seconds}});
    return o;
  }

  } // namespace adaptor
}
} // namespace msgpack
