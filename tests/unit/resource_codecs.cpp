#define CAF_SUITE resource_codecs

#include "actors/resource_lifecycle.hpp"
#include "gateway/resource_codecs.hpp"

#include <caf/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <limits>

using namespace diffplane;
using nlohmann::json;

namespace {

/// A resource as the step makes it of `input`, `attempts` into its work.
resource_record informed(const resource_input& input, std::int32_t attempts) {
  resource_record r;
  resources::take_input(r, input, resources::hash_of(input.object_json), {});
  if (r.namespace_name.empty())
    r.namespace_name = "default";
  r.attempts = attempts;
  return r;
}

} // namespace

CAF_TEST(an informed object gives the work arguments its text gives) {
  // The gateway's msgpack of the object stands in for parsing object_json again: the
  // arguments must be the same bytes whatever the object holds.
  json many_keys = json::object();
  for (int i = 0; i < 40; ++i)
    many_keys["k" + std::to_string(i)] = i * 1000;
  std::vector<json> objects{
      json::object(),
      {{"name", "ada"}, {"b", true}, {"n", nullptr}},
      {{"nested", {{"list", {1, -1, -40, 300, -300, 70000, -70000}}, {"e", "\u00e9"}}}},
      {{"floats", {0.5, 0.1, 1e300, -2.25, 3.0}}},
      {{"big", 18446744073709551615ull}, {"small", std::numeric_limits<std::int64_t>::min()}},
      {{"long", std::string(40, 'x')}, {"longer", std::string(300, 'y')}},
      {{"array", json(std::vector<int>(20, 7))}},
      many_keys};
  std::vector<json> versions{nullptr, 7, std::int64_t{1} << 40, std::int64_t{1} << 60};
  for (const auto& object : objects)
    for (const auto& version : versions) {
      json item{{"kind", "user"}, {"id", "42"}, {"object", object}};
      if (!version.is_null())
        item["version"] = version;
      item["namespace"] = "eu";
      auto request = gateway::decode_inform(json{{"resources", {item}}}.dump());
      CAF_REQUIRE_EQUAL(request.items.size(), 1u);
      const auto& input = request.items.front();
      CAF_REQUIRE(!input.object_msgpack.empty());
      for (std::int32_t attempts : {1, 200, 70000}) {
        auto r = informed(input, attempts);
        auto expected = resources::work_args(r);
        auto spliced = resources::work_args(r, input.object_msgpack);
        CAF_CHECK_EQUAL(spliced, expected);
      }
    }
}

CAF_TEST(inform results are written as a DOM wrote them) {
  std::vector<inform_result> results{{"user", "42", "scheduled"},
                                     {"user", "a\"b\\c", "coalesced"},
                                     {"invoice", "x", "stale"}};
  json list = json::array();
  for (const auto& r : results)
    list.push_back({{"kind", r.kind}, {"id", r.id}, {"outcome", r.outcome}});
  auto expected = json{{"results", list}}.dump();
  auto written = gateway::encode_inform_results(results);
  CAF_CHECK_EQUAL(written, expected);
  auto none = gateway::encode_inform_results({});
  CAF_CHECK_EQUAL(none, std::string{R"({"results":[]})"});
}
