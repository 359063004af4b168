#pragma once

#include <msgpack.hpp>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

// The native protocol's frames (docs/native-protocol.md), shared by the server's
// listener and the client library: one definition of the wire for both ends.
namespace diffplane::protocol {

/// The protocol version this code speaks.
inline constexpr std::uint32_t version = 1;
/// Bytes of the big-endian length prefix before every frame body.
inline constexpr std::size_t length_prefix_bytes = 4;
/// The largest frame accepted before the connection is authenticated.
inline constexpr std::size_t hello_frame_limit = 4096;
/// Deepest msgpack nesting a frame may have (payloads are bin inside it).
inline constexpr std::size_t max_depth = 8;
/// Deepest msgpack nesting a payload may have.
inline constexpr std::size_t max_payload_depth = 64;
/// Longest call id (the job id it becomes).
inline constexpr std::size_t max_call_id_length = 256;

enum class frame_type : std::uint8_t {
  hello = 1,
  welcome = 2,
  ping = 3,
  error = 4,
  call = 10,
  accepted = 11,
  result = 12,
  serve = 20,
  credit = 21,
  job = 22,
  job_result = 23,
  configure_kind = 30,
  kind_settings = 31,
  read_kind = 32,
  configure_namespace = 33,
  read_namespace = 34,
  namespace_settings = 35,
};

/// In welcome's `features`: the server answers configure_kind (servers before it close
/// the connection on a frame type they do not know).
inline constexpr const char* feature_configure_kind = "configure_kind";
/// In welcome's `features`: the server answers read_kind with kind_settings.
inline constexpr const char* feature_read_kind = "read_kind";
/// In welcome's `features`: the server answers configure_namespace and read_namespace.
inline constexpr const char* feature_namespaces = "namespaces";

/// A msgpack payload (arguments or a result), packed as `bin`.
using bytes = std::vector<char>;

/// A frame that breaks the protocol; `code` is the error frame's code.
class protocol_error : public std::runtime_error {
public:
  protocol_error(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

private:
  std::string code_;
};

#define DIFFPLANE_FRAME(name, ...)                                                       \
  static constexpr frame_type type = frame_type::name;                                   \
  static constexpr const char* type_name = #name;                                        \
  auto fields() {                                                                        \
    return std::tie(__VA_ARGS__);                                                        \
  }                                                                                      \
  auto fields() const {                                                                  \
    return std::tie(__VA_ARGS__);                                                        \
  }

struct hello {
  std::uint32_t version = protocol::version;
  std::string api_secret;
  std::string client;
  DIFFPLANE_FRAME(hello, version, api_secret, client)
};

struct welcome {
  std::uint32_t version = protocol::version;
  std::uint32_t heartbeat_ms = 5000;
  std::uint64_t max_frame = 0;
  /// What the server does beyond the frames every version-1 server knows; appended
  /// later, so a welcome without it (an older server) means none.
  std::vector<std::string> features;
  /// Fields a welcome must have; the rest may be missing.
  static constexpr std::size_t required_fields = 3;
  DIFFPLANE_FRAME(welcome, version, heartbeat_ms, max_frame, features)
};

struct ping {
  static constexpr frame_type type = frame_type::ping;
  static constexpr const char* type_name = "ping";
  auto fields() { return std::tie(); }
  auto fields() const { return std::tie(); }
};

struct error {
  std::string ref;
  std::string code;
  std::string message;
  DIFFPLANE_FRAME(error, ref, code, message)
};

/// A call's options (the SDK's callConfig); packed as a map, unknown keys ignored.
struct call_options {
  bool background = false;
  std::uint32_t retries = 1;
  std::uint32_t timeout_seconds = 300;
  bool predictive_retries = false;
  std::string cache_key;
  std::uint32_t cache_ttl_seconds = 0;
  /// False: an ephemeral call, whose job the server never writes to Postgres (no commit
  /// to wait for; lost if the server crashes or restarts before it finishes).
  bool durable = true;
  /// A durable call's result reaches the caller as soon as the worker posts it, while
  /// its write commits (a commit sooner); if the server dies before that commit, the
  /// job runs again and may store another result. True: only once the result committed,
  /// so the caller's result is the stored one.
  bool committed_result = false;
};

struct call {
  std::string call_id;
  std::string service;
  std::string fn;
  bytes args;
  call_options options;
  DIFFPLANE_FRAME(call, call_id, service, fn, args, options)
};

struct accepted {
  std::string call_id;
  std::string job_id;
  DIFFPLANE_FRAME(accepted, call_id, job_id)
};

struct result {
  std::string call_id;
  std::string job_id;
  std::string status;
  std::string result_type;
  bytes value;
  DIFFPLANE_FRAME(result, call_id, job_id, status, result_type, value)
};

struct serve {
  std::string service;
  std::vector<std::string> functions;
  std::string machine_id;
  std::string deployment_id;
  DIFFPLANE_FRAME(serve, service, functions, machine_id, deployment_id)
};

struct credit {
  std::string service;
  std::uint32_t credits = 0;
  DIFFPLANE_FRAME(credit, service, credits)
};

struct job {
  std::string service;
  std::string job_id;
  std::uint32_t attempt = 1;
  std::string fn;
  bytes args;
  DIFFPLANE_FRAME(job, service, job_id, attempt, fn, args)
};

struct job_result {
  std::string job_id;
  std::uint32_t attempt = 1;
  std::string result_type;
  bytes value;
  std::int32_t execution_ms = -1;
  DIFFPLANE_FRAME(job_result, job_id, attempt, result_type, value, execution_ms)
};

/// One setting of a configure_kind or configure_namespace frame: absent or nil (the
/// server's default), an integer, or a value of another type (which the server refuses,
/// naming it).
struct kind_setting {
  bool given = false;
  /// Given as an integer (one beyond int64 reads as int64's largest).
  bool integer = false;
  std::int64_t value = 0;
};

/// The settings of a configure_kind: a map keyed like the body of PUT
/// /resources-kinds/:kind, whose rules and messages apply; unknown keys are ignored.
struct kind_settings_map {
  kind_setting backoff_base_ms;         ///< "backoffBaseMs"
  kind_setting backoff_cap_ms;          ///< "backoffCapMs"
  kind_setting timeout_seconds;         ///< "timeoutSeconds"
  kind_setting inform_interval_seconds; ///< "informIntervalSeconds"
};

/// Replaces the controller settings of `kind` in the connection's cluster.
struct configure_kind {
  std::string request_id;
  std::string kind;
  kind_settings_map settings;
  DIFFPLANE_FRAME(configure_kind, request_id, kind, settings)
};

/// The answer to configure_kind: the kind's settings in effect once committed.
struct kind_settings {
  std::string request_id;
  std::string kind;
  std::uint64_t backoff_base_ms = 0;
  std::uint64_t backoff_cap_ms = 0;
  std::uint32_t timeout_seconds = 0;
  /// 0: the kind has no informer.
  std::uint32_t inform_interval_seconds = 0;
  /// Start of the informer's last successful run, epoch ms (0: none).
  std::int64_t last_informed_at = 0;
  /// Why the informer's last run failed (empty: it did not).
  std::string inform_error;
  DIFFPLANE_FRAME(kind_settings, request_id, kind, backoff_base_ms, backoff_cap_ms,
                  timeout_seconds, inform_interval_seconds, last_informed_at,
                  inform_error)
};

/// Asks for the controller settings of `kind` in the connection's cluster (answered
/// kind_settings, as GET /resources-kinds/:kind).
struct read_kind {
  std::string request_id;
  std::string kind;
  DIFFPLANE_FRAME(read_kind, request_id, kind)
};

/// The limits of a configure_namespace: a map keyed like the body of PUT
/// /resources-namespaces/:name, whose rules and messages apply; unknown keys are ignored.
struct namespace_settings_map {
  kind_setting max_workers;               ///< "maxWorkers"
  kind_setting expiry_ttl_seconds;        ///< "expiryTtlSeconds"
  kind_setting synced_retention_seconds;  ///< "syncedRetentionSeconds"
  kind_setting deleted_retention_seconds; ///< "deletedRetentionSeconds"
};

/// Replaces the limits of namespace `name` in the connection's cluster.
struct configure_namespace {
  std::string request_id;
  std::string name;
  namespace_settings_map settings;
  DIFFPLANE_FRAME(configure_namespace, request_id, name, settings)
};

/// Asks for the limits of namespace `name` in the connection's cluster.
struct read_namespace {
  std::string request_id;
  std::string name;
  DIFFPLANE_FRAME(read_namespace, request_id, name)
};

/// The answer to configure_namespace and read_namespace: the namespace's limits in
/// effect, 0 where unlimited (max_workers) or off (the others).
struct namespace_settings {
  std::string request_id;
  std::string name;
  std::uint32_t max_workers = 0;
  std::uint64_t expiry_ttl_seconds = 0;
  std::uint64_t synced_retention_seconds = 0;
  std::uint64_t deleted_retention_seconds = 0;
  DIFFPLANE_FRAME(namespace_settings, request_id, name, max_workers, expiry_ttl_seconds,
                  synced_retention_seconds, deleted_retention_seconds)
};

#undef DIFFPLANE_FRAME

/// A settings map's keys and where each is read to or packed from.
using setting_fields = std::initializer_list<std::pair<const char*, kind_setting*>>;

/// Reads the settings of a msgpack map into `fields` by key (unknown keys ignored);
/// never throws on a value, which is the server's to judge. Throws when `map` is not a
/// map.
void read_settings(const msgpack::object& map, setting_fields fields);

/// Packs the given ones of `fields` as a map (an absent setting is the server's default).
template <class Stream>
void pack_settings(msgpack::packer<Stream>& p,
                   std::initializer_list<std::pair<const char*, const kind_setting*>> fields) {
  std::uint32_t given = 0;
  for (const auto& [key, setting] : fields)
    given += setting->given ? 1 : 0;
  p.pack_map(given);
  for (const auto& [key, setting] : fields)
    if (setting->given)
      p.pack(std::string_view{key}).pack(setting->value);
}

/// The body length announced by a 4-byte big-endian prefix.
std::uint32_t read_length(const unsigned char* prefix);

/// Writes `length` as the 4-byte big-endian prefix at `out`.
void write_length(std::uint32_t length, char* out);

/// Decodes one frame body, bounded by its own size (no container may claim more
/// elements than the body has bytes); throws protocol_error `bad_frame`.
msgpack::object_handle parse(const char* data, std::size_t size);

/// Decodes one msgpack value bounded by its size and `depth`; throws protocol_error.
msgpack::object_handle parse_value(const char* data, std::size_t size,
                                   std::size_t depth = max_payload_depth);

/// The type of a parsed frame body (the first element of its array).
frame_type type_of(const msgpack::object& body);

/// A frame with its length prefix, ready to write.
template <class Frame> std::string encode(const Frame& frame) {
  msgpack::sbuffer buffer;
  buffer.write("\0\0\0\0", length_prefix_bytes);
  msgpack::packer<msgpack::sbuffer> packer{buffer};
  auto fields = frame.fields();
  packer.pack_array(1 + std::tuple_size_v<decltype(fields)>);
  packer.pack(static_cast<unsigned>(Frame::type));
  std::apply([&](const auto&... field) { (packer.pack(field), ...); }, fields);
  write_length(static_cast<std::uint32_t>(buffer.size() - length_prefix_bytes),
               buffer.data());
  return std::string(buffer.data(), buffer.size());
}

/// The fields a frame of type `Frame` must have: all, unless it says fewer (fields
/// appended in a later version).
template <class Frame> constexpr std::size_t required_fields(std::size_t count) {
  if constexpr (requires { Frame::required_fields; })
    return Frame::required_fields;
  else
    return count;
}

/// The fields of a parsed frame of type `Frame`; throws protocol_error `bad_frame`
/// naming the field that is missing or of the wrong type.
template <class Frame> Frame decode(const msgpack::object& body) {
  Frame frame;
  auto fields = frame.fields();
  constexpr auto count = required_fields<Frame>(std::tuple_size_v<decltype(fields)>);
  if (body.type != msgpack::type::ARRAY || body.via.array.size < 1 + count)
    throw protocol_error("bad_frame", std::string{Frame::type_name} + " frame needs " +
                                          std::to_string(count) + " fields");
  std::size_t index = 1;
  auto read = [&](auto& field) {
    if (index >= body.via.array.size)
      return; // an optional field the sender does not know yet
    try {
      body.via.array.ptr[index].convert(field);
    } catch (const std::exception&) {
      throw protocol_error("bad_frame", std::string{Frame::type_name} + " field " +
                                            std::to_string(index) +
                                            " has the wrong type");
    }
    ++index;
  };
  std::apply([&](auto&... field) { (read(field), ...); }, fields);
  return frame;
}

} // namespace diffplane::protocol

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  template <> struct convert<diffplane::protocol::call_options> {
    const msgpack::object& operator()(const msgpack::object& o,
                                      diffplane::protocol::call_options& v) const;
  };

  template <> struct pack<diffplane::protocol::call_options> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& p,
                               const diffplane::protocol::call_options& v) const {
      p.pack_map(8);
      p.pack(std::string_view{"background"}).pack(v.background);
      p.pack(std::string_view{"retries"}).pack(v.retries);
      p.pack(std::string_view{"timeout_seconds"}).pack(v.timeout_seconds);
      p.pack(std::string_view{"predictive_retries"}).pack(v.predictive_retries);
      p.pack(std::string_view{"cache_key"}).pack(v.cache_key);
      p.pack(std::string_view{"cache_ttl_seconds"}).pack(v.cache_ttl_seconds);
      p.pack(std::string_view{"durable"}).pack(v.durable);
      p.pack(std::string_view{"committed_result"}).pack(v.committed_result);
      return p;
    }
  };

  template <> struct convert<diffplane::protocol::kind_settings_map> {
    const msgpack::object& operator()(const msgpack::object& o,
                                      diffplane::protocol::kind_settings_map& v) const;
  };

  template <> struct pack<diffplane::protocol::kind_settings_map> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& p,
                               const diffplane::protocol::kind_settings_map& v) const {
      diffplane::protocol::pack_settings(p, {{"backoffBaseMs", &v.backoff_base_ms},
                                             {"backoffCapMs", &v.backoff_cap_ms},
                                             {"timeoutSeconds", &v.timeout_seconds},
                                             {"informIntervalSeconds",
                                              &v.inform_interval_seconds}});
      return p;
    }
  };

  template <> struct convert<diffplane::protocol::namespace_settings_map> {
    const msgpack::object& operator()(const msgpack::object& o,
                                      diffplane::protocol::namespace_settings_map& v) const;
  };

  template <> struct pack<diffplane::protocol::namespace_settings_map> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& p,
                               const diffplane::protocol::namespace_settings_map& v) const {
      diffplane::protocol::pack_settings(
          p, {{"maxWorkers", &v.max_workers},
              {"expiryTtlSeconds", &v.expiry_ttl_seconds},
              {"syncedRetentionSeconds", &v.synced_retention_seconds},
              {"deletedRetentionSeconds", &v.deleted_retention_seconds}});
      return p;
    }
  };

  } // namespace adaptor
}
} // namespace msgpack
