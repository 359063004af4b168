#define CAF_SUITE resource_inform_decode

#include "actors/resource_lifecycle.hpp"
#include "gateway/json_codecs.hpp"
#include "gateway/resource_codecs.hpp"

#include <caf/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

// decode_inform's output is stored and compared: the object's canonical text (its hash
// tells a changed object from an unchanged one, against rows written by any earlier
// version), the object's msgpack (spliced into the work job's arguments) and its errors.
// The pins below were computed by the DOM decoder (json::parse, dump, to_msgpack).
using namespace diffplane;
using nlohmann::json;

namespace {

std::string hex_of(const std::string& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0xF];
  }
  return out;
}

resource_input decode_one(const std::string& object_text) {
  auto request = gateway::decode_inform(R"({"kind":"user","id":"42","object":)" +
                                        object_text + "}");
  CAF_REQUIRE_EQUAL(request.items.size(), 1u);
  return request.items.front();
}

struct pinned {
  std::string object;  // as sent
  std::string text;    // canonical
  std::string hash;    // SHA-256 of text
  std::string msgpack; // hex
};

/// field and message of the bad_input `body` raises, or "ok".
std::pair<std::string, std::string> refusal(const std::string& body) {
  try {
    gateway::decode_inform(body);
  } catch (const gateway::bad_input& e) {
    return {e.field, e.what()};
  }
  return {"ok", ""};
}

/// Random JSON text of an object, in the forms clients send it: any key order,
/// duplicate keys, escapes, spaces, numbers of every shape.
class object_texts {
public:
  std::string object(int depth) {
    std::string out = "{" + space();
    auto n = pick(depth > 3 ? 3 : 7);
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0)
        out += "," + space();
      out += string(keys_) + space() + ":" + space() + value(depth + 1) + space();
    }
    return out + "}";
  }

private:
  std::string value(int depth) {
    switch (pick(depth > 4 ? 3 : 5)) {
    case 0:
      return numbers_[pick(numbers_.size())];
    case 1:
      return string(strings_);
    case 2:
      return literals_[pick(literals_.size())];
    case 3: {
      std::string out = "[" + space();
      auto n = pick(5);
      for (std::size_t i = 0; i < n; ++i)
        out += (i > 0 ? "," : "") + value(depth + 1) + space();
      return out + "]";
    }
    default:
      return object(depth);
    }
  }
  std::string string(const std::vector<std::string>& from) {
    return "\"" + from[pick(from.size())] + "\"";
  }
  std::string space() {
    static const std::vector<std::string> spaces{"", "", "", " ", "\n\t "};
    return spaces[pick(spaces.size())];
  }
  std::size_t pick(std::size_t n) { return rng_() % n; }

  std::mt19937_64 rng_{15};
  std::vector<std::string> keys_{"a",  "b",       "B",       "aa",     "a b", "10",
                                 "2",  "\\u00e9", "\u00e4",  "\\/x",   "",    "k\\n",
                                 "~",  "Z",       "\\ud83d\\ude00", "id", "kind"};
  std::vector<std::string> strings_{"",
                                    "plain",
                                    "\\\"quoted\\\" \\\\ back",
                                    "\\b\\f\\n\\r\\t\\u0001\\u001F\\u007f",
                                    "caf\\u00E9 \u00e9 \u4e2d \\ud834\\udd1e",
                                    "\\/slash/",
                                    "\\\\u0000 as text",
                                    std::string(40, 'x')};
  std::vector<std::string> numbers_{
      "0",          "-0",         "1",          "-1",         "1.0",
      "-0.0",       "1e3",        "1E3",        "1e+3",       "2.5e-3",
      "0.1",        "127",        "128",        "-32",        "-33",
      "255",        "256",        "65535",      "65536",      "-129",
      "-32769",     "4294967296", "-2147483649", "1e-400",    "-1e-400",
      "1.5e300",    "0.30000000000000004",     "9223372036854775807",
      "9223372036854775808",    "18446744073709551615",    "18446744073709551616",
      "-9223372036854775808",   "-9223372036854775809",    "3.4028234663852886e38",
      "123456789012345678901234567890", "5e-324", "100000000000000000000.0"};
  std::vector<std::string> literals_{"true", "false", "null"};
};

} // namespace

CAF_TEST(the canonical text hash and msgpack of awkward objects stay as pinned) {
  std::vector<pinned> pins{
      {R"({"z":1,"a":{"y":[1,2,{"b":null,"a":true}],"x":false},"\u00e9":"\u00e9\ud83d\ude00 )"
       "\u00e9"
       R"(","A":"tab\tquote\"slash\/ctl\u001f del\u007f"})",
       "{\"A\":\"tab\\tquote\\\"slash/ctl\\u001f del\x7f\",\"a\":{\"x\":false,\"y\":[1,2,{"
       "\"a\":true,\"b\":null}]},\"z\":1,\"\u00e9\":\"\u00e9\U0001F600 \u00e9\"}",
       "dfe95ec0b5c215d2fc5b2ebd98e106af64aa2730db43e4cd4d2729b39d164600",
       "84a141b97461620971756f746522736c6173682f63746c1f2064656c7fa16182a178c2a17993010282"
       "a161c3a162c0a17a01a2c3a9a9c3a9f09f988020c3a9"},
      {R"({"n":[1.0,1e3,-0,-0.0,0.1,1E-7,1.5e300,-1e-400,3.0e0,2.5E+2,12345678901234567890,)"
       R"(18446744073709551616,-9223372036854775808,-9223372036854775809,9223372036854775807,)"
       R"(100000000000000000000000,0.30000000000000004,5e-324,1e21,123456789012345680000]})",
       R"({"n":[1.0,1000.0,0,-0.0,0.1,1e-07,1.5e+300,-0.0,3.0,250.0,12345678901234567890,)"
       R"(1.8446744073709552e+19,-9223372036854775808,-9.223372036854776e+18,)"
       R"(9223372036854775807,9.999999999999999e+22,0.30000000000000004,5e-324,1e+21,)"
       R"(1.2345678901234568e+20]})",
       "56358f633f820e727813e03025f9fdfbe063be764c74955bbe9c65e2b1ee710c",
       "81a16edc0014ca3f800000ca447a000000ca80000000cb3fb999999999999acb3e7ad7f29abcaf48cb7e"
       "41eb2d66005835ca80000000ca40400000ca437a0000cfab54a98ceb1f0ad2ca5f800000d38000000000"
       "000000cadf000000cf7fffffffffffffffcb44b52d02c7e14af6cb3fd3333333333334cb000000000000"
       "0001cb444b1ae4d6e2ef50cb441ac53a7e04bcda"},
      {R"({"b":1,"a":2,"b":{"later":"wins"}})", R"({"a":2,"b":{"later":"wins"}})",
       "359e7ab7e2c7a1545d828b85749e91729fd942584142c34376a6992559de30fd",
       "82a16102a16281a56c61746572a477696e73"},
      {R"({"m":[[],[[]],[{}],[[1,[2,[3]]]]],"e":{},"l":[true,false,null,"",-1,-32,-33,-128,)"
       R"(-129,-32768,-32769,-2147483648,-2147483649,127,128,255,256,65535,65536,4294967295,)"
       R"(4294967296,0.5,3.4028234663852886e38,3.4028235677973366e38]})",
       R"({"e":{},"l":[true,false,null,"",-1,-32,-33,-128,-129,-32768,-32769,-2147483648,)"
       R"(-2147483649,127,128,255,256,65535,65536,4294967295,4294967296,0.5,)"
       R"(3.4028234663852886e+38,3.4028235677973366e+38],"m":[[],[[]],[{}],[[1,[2,[3]]]]]})",
       "c939cf2e252e70244c1fe318f94b9ab8ae1df1ec3b8f87ac884fa7ebb9b78de2",
       "83a16580a16cdc0018c3c2c0a0ffe0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fff"
       "ffff7fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000ca3f000000ca7f7fffff"
       "cb47effffff0000000a16d94909190918091920192029103"},
      {R"({"aa":1,"a":2,"ab":3,"Z":4,"z":5,"1":6,"10":7,"2":8,"\u00e4":9,"\ud83d\ude00":10,)"
       R"("~":11,"":12})",
       "{\"\":12,\"1\":6,\"10\":7,\"2\":8,\"Z\":4,\"a\":2,\"aa\":1,\"ab\":3,\"z\":5,\"~\":11,"
       "\"\u00e4\":9,\"\U0001F600\":10}",
       "da6f4ad70f3b56d8666148472e95d9bf8756821bcbd4ea65966e257836af3523",
       "8ca00ca13106a2313007a13208a15a04a16102a2616101a2616203a17a05a17e0ba2c3a409a4f09f9880"
       "0a"},
  };
  for (const auto& pin : pins) {
    auto input = decode_one(pin.object);
    CAF_CHECK_EQUAL(input.object_json, pin.text);
    auto hash = resources::hash_of(input.object_json);
    CAF_CHECK_EQUAL(hash, pin.hash);
    auto msgpack = hex_of(input.object_msgpack);
    CAF_CHECK_EQUAL(msgpack, pin.msgpack);
  }
}

CAF_TEST(random objects decode as the DOM dumps and packs them) {
  object_texts texts;
  for (int i = 0; i < 3000; ++i) {
    auto object = texts.object(0);
    auto tags = i % 3 == 0 ? R"(,"tags":{"b":"2","a":"1","b":"3"})" : std::string{};
    auto metadata = i % 2 == 0 ? ",\"metadata\":" + texts.object(1) : std::string{};
    auto body = R"({"resources":[{"kind":"user","id":"x","object":)" + object + tags +
                metadata + "}]}";
    auto dom = json::parse(body)["resources"][0];
    resource_inform_request request;
    try {
      request = gateway::decode_inform(body);
    } catch (const gateway::bad_input& e) {
      // The NUL check looks for \u0000 in the text, as it always did.
      auto nul = dom["object"].dump().find("\\u0000") != std::string::npos ||
                 (dom.contains("metadata") &&
                  dom["metadata"].dump().find("\\u0000") != std::string::npos);
      CAF_CHECK(nul);
      continue;
    }
    CAF_REQUIRE_EQUAL(request.items.size(), 1u);
    const auto& input = request.items.front();
    auto text = dom["object"].dump();
    CAF_CHECK_EQUAL(input.object_json, text);
    auto packed = json::to_msgpack(dom["object"]);
    auto msgpack = std::string(packed.begin(), packed.end());
    CAF_CHECK(input.object_msgpack == msgpack);
    auto tags_text = dom.contains("tags") ? dom["tags"].dump() : std::string{};
    CAF_CHECK_EQUAL(input.tags_json, tags_text);
    auto metadata_text = dom.contains("metadata") ? dom["metadata"].dump() : std::string{};
    CAF_CHECK_EQUAL(input.metadata_json, metadata_text);
  }
}

CAF_TEST(malformed informs are refused with the field and message they always had) {
  auto item = [](const std::string& members) {
    return R"({"resources":[{"kind":"user","id":"1","object":{}},{)" + members + "}]}";
  };
  std::string many = R"({"resources":[)";
  for (int i = 0; i < 1001; ++i)
    many += (i > 0 ? "," : "") + std::string{R"({"kind":"user","id":"1","object":{}})"};
  many += "]}";
  std::string many_tags = "{";
  for (int i = 0; i < 33; ++i)
    many_tags += (i > 0 ? ",\"t" : "\"t") + std::to_string(i) + "\":\"v\"";
  many_tags += "}";
  const std::string body_message = "the body must be a JSON object";
  const std::string kind_message = "resources[1].kind must be 1 to 63 letters, digits, '_' or '-', "
                                   "starting with a letter or digit";
  std::vector<std::tuple<std::string, std::string, std::string>> cases{
      {"", "body", body_message},
      {"[]", "body", body_message},
      {R"({"resources":[)", "body", body_message},
      {R"({"resources":[{"kind":"user","id":"1","object":{"s":"\ud800"}}]})", "body",
       body_message},
      {"{\"resources\":[{\"kind\":\"user\",\"id\":\"1\",\"object\":{\"s\":\"\xff\"}}]}",
       "body", body_message},
      {R"({"resources":[{"kind":"user","id":"1","object":{"n":1e400}}]})", "body",
       body_message},
      {R"({"resources":[{"kind":"user","id":"1","object":{}}]} x)", "body", body_message},
      {"\xEF\xBB\xBF{\"resources\":{}}", "resources",
       "resources must be an array of 1 to 1000 resources"},
      {std::string(70, '[') + std::string(70, ']'), "resources",
       "the body nests deeper than 64 levels"},
      {R"({"resources":null})", "resources",
       "resources must be an array of 1 to 1000 resources"},
      {R"({"resources":[]})", "resources",
       "resources must be an array of 1 to 1000 resources"},
      {many, "resources", "resources must be an array of 1 to 1000 resources"},
      {R"({"resources":[{"kind":"user","id":"1","object":{}},7]})", "resources[1]",
       "resources[1] must be an object"},
      {item(R"("id":"1","object":{})"), "resources[1].kind",
       "resources[1].kind is required"},
      {item(R"("kind":null,"id":"1","object":{})"), "resources[1].kind",
       "resources[1].kind is required"},
      {item(R"("kind":7,"id":"1","object":{})"), "resources[1].kind",
       "resources[1].kind must be a string"},
      {item(R"("kind":"bad kind","id":"1","object":{})"), "resources[1].kind", kind_message},
      {item(R"("kind":"user","object":{})"), "resources[1].id", "resources[1].id is required"},
      {item(R"("kind":"user","id":"a/b","object":{})"), "resources[1].id",
       "resources[1].id must be 1 to 256 printable ASCII characters without '/' or spaces"},
      {item(R"("kind":"user","id":"1")"), "resources[1].object",
       "resources[1].object is required"},
      {item(R"("kind":"user","id":"1","object":null)"), "resources[1].object",
       "resources[1].object is required"},
      {item(R"("kind":"user","id":"1","object":[])"), "resources[1].object",
       "resources[1].object must be a JSON object"},
      {item(R"("kind":"user","id":"1","object":{"a":["\u0000"]})"), "resources[1].object",
       "resources[1].object must not contain the NUL character"},
      {item(R"("kind":"user","id":"1","object":{"a":"\\u0000"})"), "resources[1].object",
       "resources[1].object must not contain the NUL character"},
      {item(R"("kind":"user","id":"1","object":{},"version":-1)"), "resources[1].version",
       "resources[1].version must be an integer from 0 to 2^63-1"},
      {item(R"("kind":"user","id":"1","object":{},"version":1.5)"), "resources[1].version",
       "resources[1].version must be an integer from 0 to 2^63-1"},
      {item(R"("kind":"user","id":"1","object":{},"version":1e16)"), "resources[1].version",
       "resources[1].version must be an integer from 0 to 2^63-1"},
      {item(R"("kind":"user","id":"1","object":{},"version":9223372036854775808)"),
       "resources[1].version", "resources[1].version must be an integer from 0 to 2^63-1"},
      {item(R"("kind":"user","id":"1","object":{},"version":"7")"), "resources[1].version",
       "resources[1].version must be an integer from 0 to 2^63-1"},
      {item(R"("kind":"user","id":"1","object":{},"namespace":7)"),
       "resources[1].namespace", "resources[1].namespace must be a string"},
      {item(R"("kind":"user","id":"1","object":{},"tags":[])"), "resources[1].tags",
       "resources[1].tags must be an object of at most 32 string values"},
      {item(R"("kind":"user","id":"1","object":{},"tags":)" + many_tags),
       "resources[1].tags", "resources[1].tags must be an object of at most 32 string values"},
      {item(R"("kind":"user","id":"1","object":{},"tags":{"z":1,"a":2})"),
       "resources[1].tags.a", "resources[1].tags.a must be a string of at most 256 bytes"},
      {item(R"("kind":"user","id":"1","object":{},"tags":{"a":")" + std::string(257, 'v') +
            "\"}"),
       "resources[1].tags.a", "resources[1].tags.a must be a string of at most 256 bytes"},
      {item(R"("kind":"user","id":"1","object":{},"metadata":"m")"),
       "resources[1].metadata", "resources[1].metadata must be a JSON object"},
      {item(R"("kind":"user","id":"1","object":{},"createdAt":"yesterday")"),
       "resources[1].createdAt",
       "resources[1].createdAt must be an ISO 8601 time or epoch milliseconds"},
      {item(R"("kind":"user","id":"1","object":{},"createdAt":0)"), "resources[1].createdAt",
       "resources[1].createdAt must be an ISO 8601 time or epoch milliseconds"},
      {item(R"("kind":"user","id":"1","object":{},"createdAt":18446744073709551615)"),
       "resources[1].createdAt",
       "resources[1].createdAt must be an ISO 8601 time or epoch milliseconds"},
      {item(R"("kind":"user","id":"1","object":{},"maxAttempts":0)"),
       "resources[1].maxAttempts", "resources[1].maxAttempts must be an integer from 1 to 1000"},
      {item(R"("kind":"user","id":"1","object":{},"maxAttempts":2.0)"),
       "resources[1].maxAttempts", "resources[1].maxAttempts must be an integer from 1 to 1000"},
      // The last of duplicate members counts, as in a DOM.
      {item(R"("kind":"bad kind","kind":"user","id":"1","object":{},"tags":{"a":1,"a":"1"})"),
       "ok", ""},
      {item(R"("kind":"user","kind":"bad kind","id":"1","object":{})"), "resources[1].kind",
       kind_message},
      {R"({"kind":"user","id":"1","object":{},"version":"7"})", "version",
       "version must be an integer from 0 to 2^63-1"},
  };
  for (const auto& [body, field, message] : cases) {
    auto [got_field, got_message] = refusal(body);
    CAF_CHECK_EQUAL(got_field, field);
    CAF_CHECK_EQUAL(got_message, message);
  }
}

CAF_TEST(the members of a resource decode as before) {
  auto request = gateway::decode_inform(
      R"({"resources":[{"kind":"user","id":"42","object":{"b":1,"a":[1.0]},"version":7.0,)"
      R"("namespace":"eu","tags":{"z":"1","a":"2"},"metadata":{"m":null},)"
      R"("createdAt":"2026-11-27T10:00:00Z","maxAttempts":3},)"
      R"({"kind":"user","id":"43","object":{},"version":9223372036854775807,)"
      R"("createdAt":1700000000000,"namespace":null,"tags":null}]})");
  CAF_REQUIRE_EQUAL(request.items.size(), 2u);
  const auto& a = request.items[0];
  CAF_CHECK_EQUAL(a.kind, "user");
  CAF_CHECK_EQUAL(a.id, "42");
  CAF_CHECK_EQUAL(a.object_json, R"({"a":[1.0],"b":1})");
  CAF_CHECK(a.has_version);
  CAF_CHECK_EQUAL(a.version, 7);
  CAF_CHECK_EQUAL(a.namespace_name, "eu");
  CAF_CHECK_EQUAL(a.tags_json, R"({"a":"2","z":"1"})");
  CAF_CHECK_EQUAL(a.metadata_json, R"({"m":null})");
  CAF_CHECK_EQUAL(a.external_created_at, 1795773600000);
  CAF_CHECK_EQUAL(a.max_attempts, 3);
  const auto& b = request.items[1];
  CAF_CHECK_EQUAL(b.version, std::numeric_limits<std::int64_t>::max());
  CAF_CHECK_EQUAL(b.external_created_at, 1700000000000);
  CAF_CHECK_EQUAL(b.namespace_name, "");
  CAF_CHECK_EQUAL(b.tags_json, "");
  CAF_CHECK_EQUAL(b.metadata_json, "");
  CAF_CHECK_EQUAL(b.max_attempts, 0);
}
