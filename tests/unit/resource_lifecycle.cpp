#define CAF_SUITE resource_lifecycle

#include "actors/resource_lifecycle.hpp"

#include <caf/test/unit_test.hpp>
#include <nlohmann/json.hpp>

using namespace diffplane;
using namespace diffplane::resources;
using namespace std::chrono_literals;

CAF_TEST(equal objects hash alike and others do not ) {
  CAF_CHECK_EQUAL(hash_of("{\"a\":1}"), hash_of("{\"a\":1}"));
  CAF_CHECK_NOT_EQUAL(hash_of("{\"a\":1}"), hash_of("{\"a\":2}"));
  CAF_CHECK_EQUAL(hash_of("").size(), 64u);
}

CAF_TEST(the work argument is the SDK encoding of the resource) {
  resource_record r;
  r.kind = "user";
  r.id = "42";
  r.object_json = "{\"name\":\"ada\"}";
  r.has_version = true;
  r.version = 7;
  r.namespace_name = "eu";
  r.attempts = 3;
  auto args = nlohmann::json::parse(decode_payload(work_args(r)));
  CAF_REQUIRE(args.is_array());
  CAF_REQUIRE_EQUAL(args.size(), 1u);
  CAF_CHECK_EQUAL(args[0]["kind"], "user");
  CAF_CHECK_EQUAL(args[0]["id"], "42");
  CAF_CHECK_EQUAL(args[0]["object"]["name"], "ada");
  CAF_CHECK_EQUAL(args[0]["version"], 7);
  CAF_CHECK_EQUAL(args[0]["namespace"], "eu");
  CAF_CHECK_EQUAL(args[0]["attempt"], 3);
  r.has_version = false;
  CAF_CHECK(nlohmann::json::parse(decode_payload(work_args(r)))[0]["version"].is_null());
}

CAF_TEST(a version beyond 32 bits is a msgpack double up to 2 to the 53 minus 1) {
  // The SDK's msgpackr reads a 64-bit msgpack integer as a BigInt, a double as a number.
  auto version_of = [](std::int64_t version) {
    resource_record r;
    r.kind = "user";
    r.id = "42";
    r.object_json = "{}";
    r.has_version = true;
    r.version = version;
    return nlohmann::json::parse(decode_payload(work_args(r)))[0]["version"];
  };
  constexpr std::int64_t max_safe = (std::int64_t{1} << 53) - 1;
  for (std::int64_t small :
       {std::int64_t{0}, std::int64_t{7}, std::int64_t{4294967295}}) {
    CAF_CHECK(version_of(small).is_number_integer());
    CAF_CHECK_EQUAL(version_of(small).get<std::int64_t>(), small);
  }
  for (std::int64_t large :
       {std::int64_t{4294967296}, std::int64_t{1} << 40, max_safe, -max_safe}) {
    auto v = version_of(large);
    CAF_CHECK(v.is_number_float());
    CAF_CHECK_EQUAL(static_cast<std::int64_t>(v.get<double>()), large);
  }
  // Beyond, a double would round it: it stays an exact 64-bit integer.
  CAF_CHECK(version_of(max_safe + 1).is_number_integer());
  CAF_CHECK_EQUAL(version_of(max_safe + 2).get<std::int64_t>(), max_safe + 2);
}

CAF_TEST(the spliced work argument is the plain encoding at every msgpack width) {
  // work_args with the object's msgpack writes the keys, strings and integers itself:
  // the same bytes as nlohmann's encoding of the whole argument, at each width of a
  // msgpack string (fixstr, str 8, 16, 32) and integer (fixint to 64 bits).
  auto object = nlohmann::json::parse(R"({"name":"ada","n":[1,-1,300]})");
  auto bytes = nlohmann::json::to_msgpack(object);
  std::string object_msgpack(bytes.begin(), bytes.end());
  std::vector<std::size_t> lengths{0, 1, 31, 32, 255, 256, 65535, 65536};
  std::vector<std::int32_t> attempts{0,      1,      127,     128,     255,
                                     256,    65535,  65536,   2147483647,
                                     -1,     -32,    -33,     -128,    -129,
                                     -32768, -32769, -2147483647 - 1};
  std::vector<std::int64_t> versions{0, -5, -40, -200, -40000, std::int64_t{1} << 31,
                                     std::int64_t{1} << 40, (std::int64_t{1} << 53) + 5,
                                     -(std::int64_t{1} << 60)};
  auto check = [&](const resource_record& r) {
    auto plain = work_args(r);
    auto spliced = work_args(r, object_msgpack);
    CAF_CHECK_EQUAL(spliced, plain);
  };
  resource_record r;
  r.kind = "user";
  r.id = "42";
  r.namespace_name = "default";
  r.object_json = object.dump();
  for (auto length : lengths) {
    r.id = std::string(length, 'i');
    r.kind = std::string(length, 'k');
    r.namespace_name = std::string(length, 'n');
    check(r);
  }
  r.id = "42";
  r.kind = "user";
  r.namespace_name = "default";
  for (auto a : attempts) {
    r.attempts = a;
    check(r);
  }
  r.attempts = 1;
  for (auto v : versions) {
    r.has_version = true;
    r.version = v;
    check(r);
  }
}

CAF_TEST(the result of the work decides the state) {
  auto synced = outcome_of(job_status::success, result_kind::resolution,
                           encode_payload("{\"action\":\"synced\"}"));
  CAF_CHECK_EQUAL(synced.state, resource_state::synced);
  auto deleted = outcome_of(job_status::success, result_kind::resolution,
                            encode_payload("{\"action\":\"delete\"}"));
  CAF_CHECK_EQUAL(deleted.state, resource_state::deleted);
  auto rejected =
      outcome_of(job_status::success, result_kind::rejection,
                 encode_payload("{\"name\":\"Error\",\"message\":\"upstream 503\"}"));
  CAF_CHECK_EQUAL(rejected.state, resource_state::failed);
  CAF_CHECK_EQUAL(rejected.message, "upstream 503");
  auto stalled = outcome_of(job_status::failure, result_kind::none, "");
  CAF_CHECK_EQUAL(stalled.state, resource_state::failed);
  auto other = outcome_of(job_status::success, result_kind::resolution,
                          encode_payload("{\"action\":\"later\"}"));
  CAF_CHECK_EQUAL(other.state, resource_state::failed);
  auto garbage = outcome_of(job_status::success, result_kind::resolution, "not base64!");
  CAF_CHECK_EQUAL(garbage.state, resource_state::failed);
}

CAF_TEST(backoff doubles from its base up to its cap) {
  resource_options options;
  options.backoff_base = 1000ms;
  options.backoff_cap = 5000ms;
  CAF_CHECK_EQUAL(backoff(1, options).count(), 1000);
  CAF_CHECK_EQUAL(backoff(2, options).count(), 2000);
  CAF_CHECK_EQUAL(backoff(3, options).count(), 4000);
  CAF_CHECK_EQUAL(backoff(4, options).count(), 5000);
  CAF_CHECK_EQUAL(backoff(60, options).count(), 5000);
}

CAF_TEST(errors keep the newest attempts) {
  resource_record r;
  for (int i = 1; i <= 5; ++i) {
    r.attempts = i;
    record_error(r, "failure " + std::to_string(i), 1000 * i, 3);
  }
  auto errors = nlohmann::json::parse(r.errors_json);
  CAF_REQUIRE_EQUAL(errors.size(), 3u);
  CAF_CHECK_EQUAL(errors[0]["attempt"], 3);
  CAF_CHECK_EQUAL(errors[2]["message"], "failure 5");
  CAF_CHECK(errors[2]["at"].is_string());
}
