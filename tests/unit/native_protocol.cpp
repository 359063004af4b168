#define CAF_SUITE native_protocol

#include "native/base64.hpp"

#include <diffplane/client/codec.hpp>
#include <diffplane/protocol.hpp>

#include <caf/test/unit_test.hpp>

#include <limits>
#include <map>
#include <optional>

using namespace diffplane;

namespace {

/// The body of an encoded frame (without its length prefix), parsed.
msgpack::object_handle body_of(const std::string& frame) {
  CAF_REQUIRE(frame.size() > protocol::length_prefix_bytes);
  auto length =
      protocol::read_length(reinterpret_cast<const unsigned char*>(frame.data()));
  CAF_REQUIRE_EQUAL(length, frame.size() - protocol::length_prefix_bytes);
  return protocol::parse(frame.data() + protocol::length_prefix_bytes, length);
}

std::string code_of_parse(const std::string& body) {
  try {
    protocol::parse(body.data(), body.size());
  } catch (const protocol::protocol_error& e) {
    return e.code();
  }
  return "accepted";
}

} // namespace

CAF_TEST(a call frame round trips with its options) {
  protocol::call call{"id1", "svc", "fn", {'\x91', '\x01'}, {}};
  call.options.background = true;
  call.options.retries = 3;
  call.options.cache_key = "k";
  call.options.committed_result = true;
  auto handle = body_of(protocol::encode(call));
  CAF_CHECK(protocol::type_of(handle.get()) == protocol::frame_type::call);
  auto back = protocol::decode<protocol::call>(handle.get());
  CAF_CHECK_EQUAL(back.call_id, "id1");
  CAF_CHECK_EQUAL(back.fn, "fn");
  CAF_CHECK(back.args == call.args);
  CAF_CHECK(back.options.background);
  CAF_CHECK_EQUAL(back.options.retries, 3u);
  CAF_CHECK_EQUAL(back.options.timeout_seconds, 300u);
  CAF_CHECK_EQUAL(back.options.cache_key, "k");
  CAF_CHECK(back.options.committed_result);
  CAF_CHECK(back.options.durable);
  // A client that predates committed_result sends no such key: the result as posted.
  CAF_CHECK(!protocol::call_options{}.committed_result);
}

CAF_TEST(a frame with a missing or mistyped field is a bad frame) {
  auto short_call = protocol::encode(protocol::accepted{"id", "job"});
  auto handle = body_of(short_call);
  try {
    protocol::decode<protocol::call>(handle.get());
    CAF_FAIL("decoded a call from an accepted frame");
  } catch (const protocol::protocol_error& e) {
    CAF_CHECK_EQUAL(e.code(), "bad_frame");
  }
  // A credit whose count is a string.
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer{buffer};
  packer.pack_array(3).pack(21).pack(std::string{"svc"}).pack(std::string{"many"});
  auto credit = protocol::parse(buffer.data(), buffer.size());
  try {
    protocol::decode<protocol::credit>(credit.get());
    CAF_FAIL("decoded a credit with a string count");
  } catch (const protocol::protocol_error& e) {
    CAF_CHECK_EQUAL(e.code(), "bad_frame");
  }
}

CAF_TEST(a container claiming more elements than the frame has bytes is refused) {
  // An array32 header claiming four billion elements, in a 6-byte frame: the decoder
  // would allocate 96 GB of objects before reading one.
  std::string huge_array{"\xdd\xff\xff\xff\xff\x01", 6};
  CAF_CHECK_EQUAL(code_of_parse(huge_array), "bad_frame");
  std::string huge_map{"\xdf\xff\xff\xff\xff\x01", 6};
  CAF_CHECK_EQUAL(code_of_parse(huge_map), "bad_frame");
  std::string huge_bin{"\x92\x03\xc6\xff\xff\xff\xff", 7};
  CAF_CHECK_EQUAL(code_of_parse(huge_bin), "bad_frame");
}

CAF_TEST(garbage trailing bytes and deep nesting are bad frames) {
  CAF_CHECK_EQUAL(code_of_parse(std::string{"\xc1\xc1\xc1", 3}), "bad_frame");
  CAF_CHECK_EQUAL(code_of_parse(std::string{"\x91\x03\x00", 3}), "bad_frame");
  CAF_CHECK_EQUAL(code_of_parse(std::string{"\x03", 1}), "bad_frame");
  CAF_CHECK_EQUAL(code_of_parse(std::string(20, '\x91') + "\x03"), "bad_frame");
  CAF_CHECK_EQUAL(code_of_parse(std::string{"\x91\x03", 2}), "accepted");
}

CAF_TEST(base64 round trips every length and refuses what is not base64) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    auto encoded = native::base64_encode(bytes);
    CAF_CHECK_EQUAL(encoded.size() % 4, 0u);
    auto decoded = native::base64_decode(encoded);
    CAF_REQUIRE(decoded.has_value());
    CAF_CHECK_EQUAL(*decoded, bytes);
    bytes += static_cast<char>(i * 37);
  }
  CAF_CHECK_EQUAL(native::base64_encode("hi"), "aGk=");
  // Held in a variable: a check of the temporary's value would read it once destroyed.
  auto decoded = native::base64_decode("kaNhcmc=");
  CAF_REQUIRE(decoded.has_value());
  CAF_CHECK_EQUAL(*decoded, "\x91\xa3"
                            "arg");
  CAF_CHECK(!native::base64_decode("a$==").has_value());
}

CAF_TEST(a typed handler decodes its arguments and encodes its result) {
  auto add = client::make_handler([](double a, double b) { return a + b; });
  auto args = client::pack_args(2, 3.5);
  auto handle = protocol::parse_value(args.data(), args.size());
  CAF_CHECK_EQUAL(client::unpack_value<double>(add(handle.get())), 5.5);

  auto greet = client::make_handler(
      [](const std::string& name, std::optional<std::string> greeting) {
        return greeting.value_or("Hello") + ", " + name + "!";
      });
  auto one = client::pack_args(std::string{"Ada"});
  auto one_handle = protocol::parse_value(one.data(), one.size());
  CAF_CHECK_EQUAL(client::unpack_value<std::string>(greet(one_handle.get())),
                  "Hello, Ada!");

  auto sizes = client::make_handler(
      [](std::map<std::string, std::vector<int>> m) { return m.size(); });
  auto map_args =
      client::pack_args(std::map<std::string, std::vector<int>>{{"a", {1, 2}}});
  auto map_handle = protocol::parse_value(map_args.data(), map_args.size());
  CAF_CHECK_EQUAL(client::unpack_value<std::size_t>(sizes(map_handle.get())), 1u);
}

CAF_TEST(arguments that do not decode are a decode error not a crash) {
  auto add = client::make_handler([](double a, double b) { return a + b; });
  auto wrong = client::pack_args(std::string{"two"}, true);
  auto handle = protocol::parse_value(wrong.data(), wrong.size());
  try {
    add(handle.get());
    CAF_FAIL("a string decoded as a number");
  } catch (const client::call_error& e) {
    CAF_CHECK_EQUAL(e.name(), "DecodeError");
    CAF_CHECK(std::string{e.what()}.find("argument 0") != std::string::npos);
  }
  auto missing = client::pack_args(1.0);
  auto missing_handle = protocol::parse_value(missing.data(), missing.size());
  try {
    add(missing_handle.get());
    CAF_FAIL("a missing argument was accepted");
  } catch (const client::call_error& e) {
    CAF_CHECK_EQUAL(e.name(), "DecodeError");
  }
  try {
    client::unpack_value<int>(client::bytes{'\xc1'});
    CAF_FAIL("garbage decoded");
  } catch (const client::call_error& e) {
    CAF_CHECK_EQUAL(e.name(), "DecodeError");
  }
}

CAF_TEST(a rejection carries the name and message of its error) {
  auto payload = client::rejection_payload("TypeError", "bad input");
  auto error = client::error_of_rejection(payload);
  CAF_CHECK_EQUAL(error.name(), "TypeError");
  CAF_CHECK_EQUAL(std::string{error.what()}, "bad input");
}

CAF_TEST(a configure_kind frame carries only the given settings) {
  protocol::configure_kind request;
  request.request_id = "r1";
  request.kind = "user";
  request.settings.timeout_seconds = {true, true, 30};
  request.settings.backoff_cap_ms = {true, true, 60000};
  auto handle = body_of(protocol::encode(request));
  CAF_CHECK(protocol::type_of(handle.get()) == protocol::frame_type::configure_kind);
  const auto& map = handle.get().via.array.ptr[3];
  CAF_REQUIRE(map.type == msgpack::type::MAP);
  CAF_CHECK_EQUAL(map.via.map.size, 2u);
  auto back = protocol::decode<protocol::configure_kind>(handle.get());
  CAF_CHECK_EQUAL(back.request_id, "r1");
  CAF_CHECK_EQUAL(back.kind, "user");
  CAF_CHECK(back.settings.timeout_seconds.given && back.settings.timeout_seconds.integer);
  CAF_CHECK_EQUAL(back.settings.timeout_seconds.value, 30);
  CAF_CHECK_EQUAL(back.settings.backoff_cap_ms.value, 60000);
  CAF_CHECK(!back.settings.backoff_base_ms.given);
  CAF_CHECK(!back.settings.inform_interval_seconds.given);
}

CAF_TEST(any setting value decodes and is left for the server to judge) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer{buffer};
  packer.pack_array(4).pack(30).pack(std::string{"r2"}).pack(std::string{"user"});
  packer.pack_map(5);
  packer.pack(std::string{"timeoutSeconds"}).pack(std::string{"soon"});
  packer.pack(std::string{"backoffBaseMs"}).pack(-5);
  packer.pack(std::string{"backoffCapMs"}).pack(std::numeric_limits<std::uint64_t>::max());
  packer.pack(std::string{"informIntervalSeconds"}).pack_nil();
  packer.pack(std::string{"maxAttempts"}).pack(3); // unknown: ignored
  auto handle = protocol::parse(buffer.data(), buffer.size());
  auto back = protocol::decode<protocol::configure_kind>(handle.get());
  CAF_CHECK(back.settings.timeout_seconds.given);
  CAF_CHECK(!back.settings.timeout_seconds.integer);
  CAF_CHECK(back.settings.backoff_base_ms.integer);
  CAF_CHECK_EQUAL(back.settings.backoff_base_ms.value, -5);
  CAF_CHECK_EQUAL(back.settings.backoff_cap_ms.value,
                  std::numeric_limits<std::int64_t>::max());
  CAF_CHECK(!back.settings.inform_interval_seconds.given);
}

CAF_TEST(a welcome without features is an older server s and decodes) {
  // What a server before configure_kind sends: three fields.
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer{buffer};
  packer.pack_array(4).pack(2).pack(1).pack(5000).pack(4096);
  auto old = protocol::parse(buffer.data(), buffer.size());
  auto welcome = protocol::decode<protocol::welcome>(old.get());
  CAF_CHECK_EQUAL(welcome.max_frame, 4096u);
  CAF_CHECK(welcome.features.empty());
  protocol::welcome current;
  current.features = {protocol::feature_configure_kind};
  auto handle = body_of(protocol::encode(current));
  auto back = protocol::decode<protocol::welcome>(handle.get());
  CAF_REQUIRE_EQUAL(back.features.size(), 1u);
  CAF_CHECK_EQUAL(back.features[0], "configure_kind");
}

CAF_TEST(a kind_settings answer round trips) {
  protocol::kind_settings answer{"r3", "user", 500, 60000, 30, 0, 1700000000000, "boom"};
  auto handle = body_of(protocol::encode(answer));
  auto back = protocol::decode<protocol::kind_settings>(handle.get());
  CAF_CHECK_EQUAL(back.request_id, "r3");
  CAF_CHECK_EQUAL(back.backoff_base_ms, 500u);
  CAF_CHECK_EQUAL(back.timeout_seconds, 30u);
  CAF_CHECK_EQUAL(back.last_informed_at, 1700000000000);
  CAF_CHECK_EQUAL(back.inform_error, "boom");
}

CAF_TEST(a configure_namespace frame carries only the given limits) {
  protocol::configure_namespace request;
  request.request_id = "n1";
  request.name = "crm";
  request.settings.max_workers = {true, true, 5};
  request.settings.deleted_retention_seconds = {true, true, 86400};
  auto handle = body_of(protocol::encode(request));
  CAF_CHECK(protocol::type_of(handle.get()) == protocol::frame_type::configure_namespace);
  const auto& map = handle.get().via.array.ptr[3];
  CAF_REQUIRE(map.type == msgpack::type::MAP);
  CAF_CHECK_EQUAL(map.via.map.size, 2u);
  auto back = protocol::decode<protocol::configure_namespace>(handle.get());
  CAF_CHECK_EQUAL(back.request_id, "n1");
  CAF_CHECK_EQUAL(back.name, "crm");
  CAF_CHECK(back.settings.max_workers.given && back.settings.max_workers.integer);
  CAF_CHECK_EQUAL(back.settings.max_workers.value, 5);
  CAF_CHECK_EQUAL(back.settings.deleted_retention_seconds.value, 86400);
  CAF_CHECK(!back.settings.expiry_ttl_seconds.given);
  CAF_CHECK(!back.settings.synced_retention_seconds.given);
}

CAF_TEST(any limit value decodes and is left for the server to judge) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer{buffer};
  packer.pack_array(4).pack(33).pack(std::string{"n2"}).pack(std::string{"crm"});
  packer.pack_map(5);
  packer.pack(std::string{"maxWorkers"}).pack(std::string{"many"});
  packer.pack(std::string{"expiryTtlSeconds"}).pack(-5);
  packer.pack(std::string{"syncedRetentionSeconds"})
      .pack(std::numeric_limits<std::uint64_t>::max());
  packer.pack(std::string{"deletedRetentionSeconds"}).pack_nil();
  packer.pack(std::string{"backoffBaseMs"}).pack(3); // a kind's setting: ignored here
  auto handle = protocol::parse(buffer.data(), buffer.size());
  auto back = protocol::decode<protocol::configure_namespace>(handle.get());
  CAF_CHECK(back.settings.max_workers.given);
  CAF_CHECK(!back.settings.max_workers.integer);
  CAF_CHECK(back.settings.expiry_ttl_seconds.integer);
  CAF_CHECK_EQUAL(back.settings.expiry_ttl_seconds.value, -5);
  CAF_CHECK_EQUAL(back.settings.synced_retention_seconds.value,
                  std::numeric_limits<std::int64_t>::max());
  CAF_CHECK(!back.settings.deleted_retention_seconds.given);
}

CAF_TEST(limits that are not a map are a bad frame) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer{buffer};
  packer.pack_array(4).pack(33).pack(std::string{"n3"}).pack(std::string{"crm"}).pack(7);
  auto handle = protocol::parse(buffer.data(), buffer.size());
  try {
    protocol::decode<protocol::configure_namespace>(handle.get());
    CAF_FAIL("decoded limits that are not a map");
  } catch (const protocol::protocol_error& e) {
    CAF_CHECK_EQUAL(e.code(), "bad_frame");
  }
}

CAF_TEST(read_kind read_namespace and namespace_settings round trip) {
  auto kind_handle = body_of(protocol::encode(protocol::read_kind{"k1", "user"}));
  CAF_CHECK(protocol::type_of(kind_handle.get()) == protocol::frame_type::read_kind);
  auto kind = protocol::decode<protocol::read_kind>(kind_handle.get());
  CAF_CHECK_EQUAL(kind.request_id, "k1");
  CAF_CHECK_EQUAL(kind.kind, "user");
  auto ns_handle = body_of(protocol::encode(protocol::read_namespace{"n4", "crm"}));
  CAF_CHECK(protocol::type_of(ns_handle.get()) == protocol::frame_type::read_namespace);
  auto ns = protocol::decode<protocol::read_namespace>(ns_handle.get());
  CAF_CHECK_EQUAL(ns.request_id, "n4");
  CAF_CHECK_EQUAL(ns.name, "crm");
  protocol::namespace_settings answer{"n5", "crm", 5, 3600, 0, 315360000};
  auto handle = body_of(protocol::encode(answer));
  CAF_CHECK(protocol::type_of(handle.get()) == protocol::frame_type::namespace_settings);
  auto back = protocol::decode<protocol::namespace_settings>(handle.get());
  CAF_CHECK_EQUAL(back.request_id, "n5");
  CAF_CHECK_EQUAL(back.name, "crm");
  CAF_CHECK_EQUAL(back.max_workers, 5u);
  CAF_CHECK_EQUAL(back.expiry_ttl_seconds, 3600u);
  CAF_CHECK_EQUAL(back.synced_retention_seconds, 0u);
  CAF_CHECK_EQUAL(back.deleted_retention_seconds, 315360000u);
}
