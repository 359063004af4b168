#include "diffplane/client/controller.hpp"

#include <cmath>
#include <string>
#include <string_view>

namespace diffplane::client {

namespace {

call_error decode_error(const std::string& message) {
  return call_error("DecodeError", message);
}

/// The single map argument of a controller's job.
const msgpack::object& single_map(const msgpack::object& args, const char* function) {
  if (args.type != msgpack::type::ARRAY || args.via.array.size < 1 ||
      args.via.array.ptr[0].type != msgpack::type::MAP)
    throw decode_error(std::string{"the argument of "} + function +
                       " is not one map: is this a job of the resource controller?");
  return args.via.array.ptr[0];
}

template <class F> void each_member(const msgpack::object& map, F f) {
  for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& entry = map.via.map.ptr[i];
    if (entry.key.type == msgpack::type::STR)
      f(std::string_view{entry.key.via.str.ptr, entry.key.via.str.size}, entry.val);
  }
}

/// `value` converted to T, or a decode error naming the member.
template <class T> T member_as(const msgpack::object& value, std::string_view name) {
  try {
    return value.as<T>();
  } catch (const std::exception& e) {
    throw decode_error("the member '" + std::string{name} + "' does not decode as " +
                       detail::type_name<T>() + ": " + e.what());
  }
}

/// An integer the server may send as a msgpack double (beyond 32 bits, so that the SDK
/// reads a number rather than a BigInt): exact up to 2^53-1.
std::int64_t integer_member(const msgpack::object& value, std::string_view name) {
  if (value.type != msgpack::type::FLOAT32 && value.type != msgpack::type::FLOAT64)
    return member_as<std::int64_t>(value, name);
  auto d = value.via.f64;
  if (!(std::fabs(d) <= 9007199254740991.0) || std::trunc(d) != d)
    throw decode_error("the member '" + std::string{name} +
                       "' is not an integer: " + std::to_string(d));
  return static_cast<std::int64_t>(d);
}

/// Whether `payload` is one msgpack map (fixmap, map 16 or map 32).
bool is_map(const bytes& payload) {
  if (payload.empty())
    return false;
  auto first = static_cast<unsigned char>(payload.front());
  return (first >= 0x80 && first <= 0x8f) || first == 0xde || first == 0xdf;
}

} // namespace

std::string controller_service(const std::string& kind) {
  return "resources." + kind;
}

namespace detail {

work_argument read_work_argument(const msgpack::object& args) {
  const auto& map = single_map(args, "work");
  work_argument out;
  each_member(map, [&](std::string_view key, const msgpack::object& value) {
    if (key == "kind")
      out.kind = member_as<std::string>(value, key);
    else if (key == "id")
      out.id = member_as<std::string>(value, key);
    else if (key == "object")
      out.object = &value;
    else if (key == "version" && value.type != msgpack::type::NIL)
      out.version = integer_member(value, key);
    else if (key == "namespace")
      out.namespace_name = member_as<std::string>(value, key);
    else if (key == "attempt")
      out.attempt = member_as<std::int32_t>(value, key);
  });
  if (out.object == nullptr)
    throw decode_error("the resource " + out.kind + "/" + out.id + " has no object");
  return out;
}

inform_time read_inform_argument(const msgpack::object& args) {
  const auto& map = single_map(args, "inform");
  inform_time out;
  each_member(map, [&](std::string_view key, const msgpack::object& value) {
    if (key != "lastRunAt" || value.type == msgpack::type::NIL)
      return;
    // Epoch milliseconds: the server sends a double, which the SDK reads as a number.
    out = std::chrono::system_clock::time_point{
        std::chrono::milliseconds{integer_member(value, key)}};
  });
  return out;
}

bytes action_payload(resource_action action) {
  return pack_value(std::map<std::string, std::string>{
      {"action", action == resource_action::synced ? "synced" : "delete"}});
}

bytes informed_payload(const std::string& kind,
                       const std::vector<encoded_resource>& items) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer{buffer};
  packer.pack_array(static_cast<std::uint32_t>(items.size()));
  for (const auto& item : items) {
    if (!is_map(item.object))
      throw call_error("EncodeError",
                       "the object of the informed resource " + kind + "/" + item.id +
                           " does not encode as a msgpack map (MSGPACK_DEFINE_MAP): the "
                           "server takes JSON objects");
    std::uint32_t members = 3 + (item.version ? 1 : 0) + (item.namespace_name ? 1 : 0) +
                            (item.tags.empty() ? 0 : 1) + (item.max_attempts ? 1 : 0);
    packer.pack_map(members);
    packer.pack(std::string_view{"kind"}).pack(kind);
    packer.pack(std::string_view{"id"}).pack(item.id);
    packer.pack(std::string_view{"object"});
    buffer.write(item.object.data(), item.object.size());
    if (item.version)
      packer.pack(std::string_view{"version"}).pack(*item.version);
    if (item.namespace_name)
      packer.pack(std::string_view{"namespace"}).pack(*item.namespace_name);
    if (!item.tags.empty())
      packer.pack(std::string_view{"tags"}).pack(item.tags);
    if (item.max_attempts)
      packer.pack(std::string_view{"maxAttempts"}).pack(*item.max_attempts);
  }
  return bytes(buffer.data(), buffer.data() + buffer.size());
}

} // namespace detail

} // namespace diffplane::client
