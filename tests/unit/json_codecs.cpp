#define CAF_SUITE json_codecs

#include "gateway/json_codecs.hpp"
#include "gateway/http_types.hpp"
#include "gateway/json_nesting.hpp"

#include <caf/test/unit_test.hpp>
#include <nlohmann/json.hpp>

using namespace diffplane;
using namespace diffplane::gateway;

namespace {

/// The field a bad body is refused for, or "" when it is accepted.
std::string refused_field(std::string_view body, std::size_t max_ids = 20000) {
  try {
    decode_batch_status(body, decode_limits{max_ids});
    return "";
  } catch (const bad_input& e) {
    return e.field;
  }
}

} // namespace

CAF_TEST(batch status bodies are read as the contract says) {
  auto request = decode_batch_status(R"({"jobIds":["a","b\u00e9"],"ttl":5000})", {});
  CAF_REQUIRE_EQUAL(request.ids.size(), 2u);
  CAF_CHECK_EQUAL(request.ids[1], "b\xc3\xa9");
  CAF_CHECK_EQUAL(request.ttl_ms, 5000);
  CAF_CHECK_EQUAL(decode_batch_status(R"({"jobIds":[]})", {}).ttl_ms, 20000);
  CAF_CHECK_EQUAL(decode_batch_status(R"({"ttl":"6000","jobIds":["x"]})", {}).ttl_ms,
                  6000);
  // Unknown keys, nested or not, are ignored.
  auto extra =
      decode_batch_status(R"({"x":{"jobIds":[1]},"y":[[1]],"jobIds":["z"]})", {});
  CAF_CHECK_EQUAL(extra.ids, std::vector<std::string>{"z"});
}

CAF_TEST(bad batch status bodies name their field) {
  CAF_CHECK_EQUAL(refused_field("nope"), "body");
  CAF_CHECK_EQUAL(refused_field("[1]"), "body");
  CAF_CHECK_EQUAL(refused_field("\"text\""), "body");
  CAF_CHECK_EQUAL(refused_field("{}"), "jobIds");
  CAF_CHECK_EQUAL(refused_field(R"({"jobIds":"a"})"), "jobIds");
  CAF_CHECK_EQUAL(refused_field(R"({"jobIds":[1]})"), "jobIds");
  CAF_CHECK_EQUAL(refused_field(R"({"jobIds":[["a"]]})"), "jobIds");
  CAF_CHECK_EQUAL(refused_field(R"({"jobIds":[{"a":1}]})"), "jobIds");
  CAF_CHECK_EQUAL(refused_field(R"({"jobIds":["a"],"ttl":100})"), "ttl");
  CAF_CHECK_EQUAL(refused_field(R"({"jobIds":["a"],"ttl":"soon"})"), "ttl");
  CAF_CHECK_EQUAL(refused_field(R"({"jobIds":["a","b","c"]})", 2), "jobIds");
  CAF_CHECK_EQUAL(refused_field(R"({"jobIds":["a\u0000"]})"), "jobIds");
  CAF_CHECK_EQUAL(refused_field(R"({"jobIds":["a"])"), "body");
}

CAF_TEST(status answers are valid JSON whatever the strings hold) {
  std::vector<job_status_row> rows{
      {"plain", job_status::pending, result_kind::none, ""},
      {"q\"uo\\te", job_status::success, result_kind::resolution, "line\nbreak\ttab\x01"},
      {"utf8-\xc3\xa9", job_status::success, result_kind::rejection, ""},
  };
  auto parsed = nlohmann::json::parse(encode_job_statuses(rows));
  CAF_REQUIRE_EQUAL(parsed.size(), 3u);
  CAF_CHECK(parsed[0]["result"].is_null());
  CAF_CHECK(parsed[0]["resultType"].is_null());
  CAF_CHECK_EQUAL(parsed[0]["status"].get<std::string>(), "pending");
  CAF_CHECK_EQUAL(parsed[1]["id"].get<std::string>(), "q\"uo\\te");
  CAF_CHECK_EQUAL(parsed[1]["result"].get<std::string>(), "line\nbreak\ttab\x01");
  CAF_CHECK_EQUAL(parsed[1]["resultType"].get<std::string>(), "resolution");
  CAF_CHECK_EQUAL(parsed[2]["id"].get<std::string>(), "utf8-\xc3\xa9");
  CAF_CHECK_EQUAL(parsed[2]["result"].get<std::string>(), "");
  CAF_CHECK_EQUAL(nlohmann::json::parse(encode_job_statuses({})).size(), 0u);
  auto single = nlohmann::json::parse(encode_job_status(rows[1]));
  CAF_CHECK(!single.contains("id"));
  CAF_CHECK_EQUAL(single["status"].get<std::string>(), "success");
}

CAF_TEST(dispatched jobs and ids encode as the contract says) {
  auto jobs = nlohmann::json::parse(
      encode_dispatched_jobs({{"1", "fn", "kA=="}, {"2", "f\"n", "a\\b"}}));
  CAF_REQUIRE_EQUAL(jobs.size(), 2u);
  CAF_CHECK_EQUAL(jobs[1]["targetFn"].get<std::string>(), "f\"n");
  CAF_CHECK_EQUAL(jobs[1]["targetArgs"].get<std::string>(), "a\\b");
  CAF_CHECK_EQUAL(jobs[0]["id"].get<std::string>(), "1");
  CAF_CHECK_EQUAL(nlohmann::json::parse(encode_dispatched_jobs({})).size(), 0u);
  // A later attempt carries its number, which the worker echoes in the result route.
  auto retried = nlohmann::json::parse(encode_dispatched_jobs({{"j", "fn", "kA==", 3}}));
  CAF_CHECK_EQUAL(retried[0]["id"].get<std::string>(), "j/3");
  CAF_CHECK_EQUAL(nlohmann::json::parse(encode_job_id("x\"y"))["id"].get<std::string>(),
                  "x\"y");
}

namespace {

/// The message a document-building decoder refuses `body` with, or "" when accepted.
template <class Decode> std::string refusal(Decode decode, const std::string& body) {
  try {
    decode(body);
    return "";
  } catch (const bad_input& e) {
    return e.field + ": " + e.what();
  }
}

http_request poll_with_body(const std::string& body) {
  http_request request;
  request.headers = {{"x-machine-id", "m1"}};
  request.body = body;
  return request;
}

} // namespace

CAF_TEST(nesting is counted outside strings only) {
  CAF_CHECK(!nests_deeper_than(R"({"a":[1,{"b":[]}]})", 4));
  CAF_CHECK(nests_deeper_than(R"({"a":[1,{"b":[]}]})", 3));
  CAF_CHECK(!nests_deeper_than(R"(["[[[[{{{{"])", 1));
  CAF_CHECK(!nests_deeper_than(R"(["\"[[[[", "\\"])", 1));
  CAF_CHECK(nests_deeper_than(R"(["\\"[[[[)", 1));
  CAF_CHECK(!nests_deeper_than("]]]]]][[", 2));
  CAF_CHECK(!nests_deeper_than("", 0));
}

CAF_TEST(deep control bodies are refused before a document is built) {
  // 4 MiB of '[' once cost hundreds of MB of nested documents before its 400.
  std::string deep(4 * 1024 * 1024, '[');
  auto too_deep = "body: the body nests arrays or objects deeper than 32 levels";
  CAF_CHECK_EQUAL(refusal([](auto& b) { decode_jobs_request(poll_with_body(b)); }, deep),
                  too_deep);
  CAF_CHECK_EQUAL(refusal([](auto& b) { decode_client_events(poll_with_body(b)); }, deep),
                  too_deep);
  CAF_CHECK_EQUAL(refusal([](auto& b) { decode_settings(b); }, deep), too_deep);
  CAF_CHECK_EQUAL(refusal([](auto& b) { decode_cluster_description(b); }, deep),
                  too_deep);
  // A real poll nests three levels and one nested 32 deep is still read.
  std::string nested_32 =
      R"({"service":"s","x":)" + std::string(31, '[') + std::string(31, ']') + "}";
  CAF_CHECK_EQUAL(refusal([](auto& b) { decode_jobs_request(poll_with_body(b)); },
                          R"({"service":"s","functions":[{"name":"f"}]})"),
                  "");
  CAF_CHECK_EQUAL(
      refusal([](auto& b) { decode_jobs_request(poll_with_body(b)); }, nested_32), "");
}

CAF_TEST(a node shows its caf address only when it publishes one) {
  membership_view view;
  view.nodes.push_back({"alone", "127.0.0.1:4000", "", 0, 1000, 2000});
  view.nodes.push_back({"meshed", "10.0.0.1:4000", "10.0.0.1", 4100, 1000, 2000});
  view.nodes.push_back({"v6", "[::1]:4000", "::1", 4100, 1000, 2000});
  auto nodes = nlohmann::json::parse(encode_nodes(view))["nodes"];
  CAF_REQUIRE_EQUAL(nodes.size(), 3u);
  CAF_CHECK(nodes[0].contains("cafAddress") && nodes[0]["cafAddress"].is_null());
  CAF_CHECK_EQUAL(nodes[1].value("cafAddress", ""), "10.0.0.1:4100");
  CAF_CHECK_EQUAL(nodes[2].value("cafAddress", ""), "[::1]:4100");
}
