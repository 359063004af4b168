#include "persistence/resource_work_args.hpp"

#include "persistence/msgpack_writer.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <limits>

namespace diffplane::persistence {

namespace {

/// An integer as the SDK should read it: its msgpack decoder (msgpackr) makes a 64-bit
/// msgpack integer a BigInt, so one beyond 32 bits that a double holds exactly (at most
/// 2^53-1 either way) goes as a double, which it reads as a number. Beyond that a double
/// would round it: it stays exact, as a 64-bit integer (a BigInt in JavaScript).
nlohmann::json sdk_integer(std::int64_t value) {
  constexpr std::int64_t max_safe = (std::int64_t{1} << 53) - 1;
  if (value >= std::numeric_limits<std::int32_t>::min() &&
      value <= std::numeric_limits<std::uint32_t>::max())
    return value;
  if (value >= -max_safe && value <= max_safe)
    return static_cast<double>(value);
  return value;
}

} // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  auto written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                 reinterpret_cast<const unsigned char*>(bytes.data()),
                                 static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(written, 0)));
  return out;
}

std::string base64_encode(const std::vector<std::uint8_t>& bytes) {
  return base64_encode(
      std::string_view{reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}

bool base64_decode(std::string_view text, std::vector<std::uint8_t>& out) {
  if (text.size() % 4 != 0)
    return false;
  out.assign(3 * text.size() / 4, 0);
  auto written =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                      static_cast<int>(text.size()));
  if (written < 0)
    return false;
  // EVP_DecodeBlock counts the padding as zero bytes.
  auto padding =
      std::count(text.end() - std::min<std::size_t>(text.size(), 2), text.end(), '=');
  out.resize(static_cast<std::size_t>(written) - static_cast<std::size_t>(padding));
  return true;
}

std::string work_args(const resource_record& resource, std::string_view object_msgpack) {
  if (object_msgpack.empty()) {
    nlohmann::json argument = {
        {"kind", resource.kind},
        {"id", resource.id},
        {"object", nlohmann::json::parse(resource.object_json, nullptr, false)},
        {"version", resource.has_version ? sdk_integer(resource.version) : nullptr},
        {"namespace", resource.namespace_name},
        {"attempt", resource.attempts}};
    return base64_encode(nlohmann::json::to_msgpack(nlohmann::json::array({argument})));
  }
  // A msgpack map is its header and then its members, which nlohmann writes in key
  // order: the bytes of the plain encoding, with the object's own bytes spliced in
  // rather than parsed from its text again (a third of the resources actor's time on
  // changed informs, bench/resources). The keys, strings and integers are written
  // here as nlohmann writes them (a to_msgpack call per member allocated its writer:
  // a third of an inform's time in the actor).
  std::string bytes;
  bytes.reserve(object_msgpack.size() + resource.kind.size() + resource.id.size() +
                resource.namespace_name.size() + 64);
  bytes.push_back(static_cast<char>(0x91)); // an array of one
  bytes.push_back(static_cast<char>(0x86)); // a map of six
  msgpack_writer::put_string(bytes, "attempt");
  msgpack_writer::put_integer(bytes, resource.attempts);
  msgpack_writer::put_string(bytes, "id");
  msgpack_writer::put_string(bytes, resource.id);
  msgpack_writer::put_string(bytes, "kind");
  msgpack_writer::put_string(bytes, resource.kind);
  msgpack_writer::put_string(bytes, "namespace");
  msgpack_writer::put_string(bytes, resource.namespace_name);
  msgpack_writer::put_string(bytes, "object");
  bytes.append(object_msgpack);
  msgpack_writer::put_string(bytes, "version");
  if (!resource.has_version) {
    bytes.push_back(static_cast<char>(0xc0)); // nil
  } else {
    // A double (sdk_integer) as nlohmann compacts it: rare enough to go through it.
    std::vector<std::uint8_t> version;
    nlohmann::json::to_msgpack(sdk_integer(resource.version), version);
    bytes.append(version.begin(), version.end());
  }
  return base64_encode(bytes);
}

std::string work_object_id(std::string_view target_args) {
  std::vector<std::uint8_t> bytes;
  if (!base64_decode(target_args, bytes))
    return {};
  auto value = nlohmann::json::from_msgpack(bytes, true, false);
  if (!value.is_array() || value.size() != 1 || !value[0].is_object())
    return {};
  auto id = value[0].find("id");
  return id != value[0].end() && id->is_string() ? id->get<std::string>() : std::string{};
}

} // namespace diffplane::persistence
