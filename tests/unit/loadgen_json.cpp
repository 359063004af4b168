#define CAF_SUITE loadgen_json

#include "bench/loadgen/json_fields.hpp"
#include "bench/loadgen/json_scan.hpp"
#include "bench/loadgen/json_write.hpp"
#include "gateway/json_codecs.hpp"

#include <caf/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using namespace diffplane;
using namespace diffplane::bench;
using json = nlohmann::json;

namespace {

// The keys loadgen asks a status answer for (caller.cpp).
constexpr std::array<std::string_view, 4> status_keys{"id", "status", "resultType",
                                                      "result"};

std::string written(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::string dumped(const std::string& text) {
  return json(text).dump();
}

/// The cells of `body` scanned for status_keys, one string per row joined by '|', or
/// "nothing" when the scan refuses the body.
std::string status_cells(std::string_view body) {
  auto table = scan_array_fields(body, status_keys);
  if (!table)
    return "nothing";
  std::string cells;
  for (std::size_t row = 0; row < table->rows(); ++row) {
    if (row > 0)
      cells += '|';
    for (std::size_t column = 0; column < status_keys.size(); ++column)
      cells += (column > 0 ? "," : "") + table->at(row, column);
  }
  return cells;
}

/// Where the scanners disagree with nlohmann's DOM read through string_field on `body`,
/// or "" when they agree.
std::string disagreement(const std::string& body) {
  const auto dom = json::parse(body, nullptr, false);
  auto table = scan_array_fields(body, status_keys);
  if (table.has_value() != dom.is_array())
    return "array or not: " + body;
  if (table) {
    if (table->rows() != dom.size())
      return "row count: " + body;
    for (std::size_t row = 0; row < dom.size(); ++row)
      for (std::size_t column = 0; column < status_keys.size(); ++column) {
        const std::string key(status_keys[column]);
        if (table->at(row, column) != string_field(dom[row], key.c_str()))
          return "cell " + key + " of row " + std::to_string(row) + ": " + body;
      }
  }
  for (const char* key : {"id", "status", "x"})
    if (scan_string_field(body, key) != string_field(dom, key))
      return std::string("field ") + key + ": " + body;
  return "";
}

std::string random_json(std::mt19937& rng, int depth);

/// A random JSON object with up to four members, keyed mostly by status_keys.
std::string random_object(std::mt19937& rng, int depth) {
  // "i\u0064" is "id" once unescaped; "id" twice makes repeated keys common.
  static constexpr std::array<const char*, 7> keys{
      "id", "status", "resultType", "result", "x", "i\\u0064", "id"};
  std::string object = "{";
  for (std::uint32_t i = 0, n = rng() % 5; i < n; ++i) {
    object += i > 0 ? ",\"" : "\"";
    object += keys[rng() % keys.size()];
    object += "\":" + random_json(rng, depth + 1);
  }
  return object + "}";
}

/// A random JSON value from the pieces status answers are made of, nested at most a few
/// levels; `rng() % n` keeps the sequence the same on every standard library.
std::string random_json(std::mt19937& rng, int depth) {
  static constexpr std::array<const char*, 8> strings{
      R"("a")",
      R"("success")",
      R"("failure")",
      R"("resolution")",
      R"("")",
      R"("\u00e9\n")",
      R"("pending")",
      R"("a longer string, long enough to leave the small string buffer")"};
  switch (rng() % (depth > 3 ? 6 : 10)) {
  case 0:
    return "null";
  case 1:
    return "true";
  case 2:
    return "-12";
  case 3:
    return "1.5e3";
  case 4:
  case 5:
    return strings[rng() % strings.size()];
  case 6:
  case 7:
  case 8:
    return random_object(rng, depth);
  default: {
    std::string array = "[";
    for (std::uint32_t i = 0, n = rng() % 5; i < n; ++i)
      array += (i > 0 ? "," : "") + random_json(rng, depth + 1);
    return array + "]";
  }
  }
}

} // namespace

CAF_TEST(the writer escapes every ASCII byte as dump does) {
  for (int byte = 0; byte < 128; ++byte) {
    const std::string text(1, static_cast<char>(byte));
    CAF_CHECK_EQUAL(written(text), dumped(text));
    const std::string framed = "a" + text + "b";
    CAF_CHECK_EQUAL(written(framed), dumped(framed));
  }
}

CAF_TEST(the writer passes multibyte text through as dump does) {
  for (const std::string text :
       {"", "plain-id-42", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        "\xf0\x9f\x98\x80 smile", "mixed \xc3\xa9\n\"\\\t\x01\x7f\xe2\x82\xac",
        "kc4AAAAB", "bench\"svc\\"}) {
    CAF_CHECK_EQUAL(written(text), dumped(text));
  }
  // It appends to what the body already holds.
  std::string body = R"({"service":)";
  append_json_string(body, "a\"b");
  CAF_CHECK_EQUAL(body, R"({"service":"a\"b")");
}

CAF_TEST(the writer builds the request bodies dump would) {
  const std::string service = "bench\"svc\\";
  const std::string arguments = "kc4AAAAB";
  std::string create = R"({"service":)";
  append_json_string(create, service);
  create += R"(,"targetArgs":)";
  append_json_string(create, arguments);
  create += R"(,"targetFn":"echo"})";
  const std::string want =
      json{{"service", service}, {"targetFn", "echo"}, {"targetArgs", arguments}}.dump();
  CAF_CHECK_EQUAL(create, want);
}

CAF_TEST(status answers give the wanted fields per element) {
  const std::string answer =
      R"([{"id":"a","status":"pending","resultType":null,"result":null},)"
      R"({"result":"kA==","status":"success","id":"b","resultType":"resolution"},)"
      R"({"id":"c\u00e9\n","status":"failure","extra":1}])";
  CAF_CHECK_EQUAL(status_cells(answer),
                  "a,pending,,|b,success,resolution,kA==|c\xc3\xa9\n,failure,,");
  CAF_CHECK_EQUAL(status_cells("[]"), "");
  CAF_CHECK_EQUAL(status_cells(" [ {} , {\"id\" : \"x\"} ] "), ",,,|x,,,");
  // Elements that are not objects still count as rows, with every field empty.
  CAF_CHECK_EQUAL(status_cells(R"([1,"id",null,["a"]])"), ",,,|,,,|,,,|,,,");
  // Keys match once unescaped, as in the DOM.
  CAF_CHECK_EQUAL(status_cells(R"([{"i\u0064":"a"}])"), "a,,,");
}

CAF_TEST(the last value of a repeated key wins) {
  CAF_CHECK_EQUAL(status_cells(R"([{"id":"a","id":"b"}])"), "b,,,");
  CAF_CHECK_EQUAL(status_cells(R"([{"id":"a","id":5}])"), ",,,");
  CAF_CHECK_EQUAL(status_cells(R"([{"id":5,"id":"b"}])"), "b,,,");
  CAF_CHECK_EQUAL(status_cells(R"([{"id":"a","id":null}])"), ",,,");
  CAF_CHECK_EQUAL(scan_string_field(R"({"id":"a","id":"b"})", "id"), "b");
  CAF_CHECK_EQUAL(scan_string_field(R"({"id":"a","id":{}})", "id"), "");
}

CAF_TEST(missing and null and non string values come back empty) {
  CAF_CHECK_EQUAL(status_cells(R"([{"status":"success"}])"), ",success,,");
  CAF_CHECK_EQUAL(status_cells(R"([{"id":null,"status":true,"resultType":1.5,)"
                               R"("result":-3}])"),
                  ",,,");
  CAF_CHECK_EQUAL(status_cells(R"([{"id":["a"],"status":{"s":"x"},"result":[]}])"),
                  ",,,");
  CAF_CHECK_EQUAL(scan_string_field(R"({"id":42})", "id"), "");
  CAF_CHECK_EQUAL(scan_string_field(R"({"id":null})", "id"), "");
  CAF_CHECK_EQUAL(scan_string_field(R"({"other":"a"})", "id"), "");
}

CAF_TEST(nested keys are ignored) {
  CAF_CHECK_EQUAL(status_cells(R"([{"result":{"id":"inner"},"id":"outer"}])"),
                  "outer,,,");
  CAF_CHECK_EQUAL(status_cells(R"([{"x":[{"id":"a"}],"y":{"z":{"status":"s"}}}])"),
                  ",,,");
  // A key inside an array element names nothing, not the array's next value.
  CAF_CHECK_EQUAL(status_cells(R"([[{"id":"inner"},"leak"]])"), ",,,");
  // A nested value after the key empties the cell rather than leaking its insides.
  CAF_CHECK_EQUAL(status_cells(R"([{"id":"a","id":{"id":"b"}}])"), ",,,");
  CAF_CHECK_EQUAL(scan_string_field(R"({"job":{"id":"inner"}})", "id"), "");
  CAF_CHECK_EQUAL(scan_string_field(R"({"job":{"id":"inner"},"id":"outer"})", "id"),
                  "outer");
}

CAF_TEST(malformed bodies and other top levels give nothing) {
  for (const std::string body :
       {"", " ", "[", "[{", R"([{"id":"a"})", R"([{"id":"a",}])", "[{}]x", "[1,]",
        R"(["\ud800"])", "[1e999]", "[{\"id\":\"a\x01\"}]", "{}", R"({"id":"a"})", "null",
        R"("text")", "5", "true", "[[{\"id\":\"a\"}]]x"}) {
    CAF_CHECK_EQUAL(status_cells(body), "nothing");
  }
  // Arrays nested in the top-level array are rows with no fields, not records.
  CAF_CHECK_EQUAL(status_cells(R"([[{"id":"a"}]])"), ",,,");
}

CAF_TEST(create answers give their id) {
  CAF_CHECK_EQUAL(scan_string_field(R"({"id":"01J-job-7"})", "id"), "01J-job-7");
  CAF_CHECK_EQUAL(
      scan_string_field(R"( { "x" : [1, {"id":"no"}], "id" : "j\"1" } )", "id"), "j\"1");
  for (const std::string body :
       {"", R"({"id":"a")", R"({"id":"a"}x)", R"({"id":})", R"({"id" "a"})",
        R"([{"id":"a"}])", R"("id")", "null", R"({"id":"a\)"}) {
    CAF_CHECK_EQUAL(scan_string_field(body, "id"), "");
  }
}

CAF_TEST(the scanners read what the gateway writes) {
  const std::string id = "q\"uo\\te-\xc3\xa9";
  CAF_CHECK_EQUAL(scan_string_field(gateway::encode_job_id(id), "id"), id);
  const std::vector<job_status_row> rows{
      {"plain", job_status::pending, result_kind::none, ""},
      {"x\ty", job_status::success, result_kind::resolution, "line\nbreak\x01"},
  };
  CAF_CHECK_EQUAL(status_cells(gateway::encode_job_statuses(rows)),
                  "plain,pending,,|x\ty,success,resolution,line\nbreak\x01");
  constexpr std::array<std::string_view, 2> job_keys{"id", "targetArgs"};
  auto jobs = scan_array_fields(
      gateway::encode_dispatched_jobs({{"1", "fn", "kA=="}, {"2", "f\"n", "a\\b"}}),
      job_keys);
  CAF_REQUIRE(jobs.has_value());
  CAF_REQUIRE_EQUAL(jobs->rows(), 2u);
  CAF_CHECK_EQUAL(jobs->at(0, 0), "1");
  CAF_CHECK_EQUAL(jobs->at(0, 1), "kA==");
  CAF_CHECK_EQUAL(jobs->at(1, 1), "a\\b");
}

CAF_TEST(the scanners agree with the DOM on random bodies) {
  std::mt19937 rng(42);
  std::size_t arrays = 0;
  std::size_t filled_cells = 0;
  std::string first_disagreement;
  for (int i = 0; i < 5000; ++i) {
    // Half are arrays of an object and another value; one in seven loses a byte.
    std::string body =
        i % 2 == 0 ? random_json(rng, 0)
                   : "[" + random_object(rng, 1) + "," + random_json(rng, 1) + "]";
    if (i % 7 == 0 && !body.empty())
      body.erase(rng() % body.size(), 1);
    if (auto table = scan_array_fields(body, status_keys)) {
      ++arrays;
      for (std::size_t row = 0; row < table->rows(); ++row)
        for (std::size_t column = 0; column < status_keys.size(); ++column)
          filled_cells += !table->at(row, column).empty();
    }
    if (auto why = disagreement(body); !why.empty() && first_disagreement.empty())
      first_disagreement = why;
  }
  CAF_CHECK_EQUAL(first_disagreement, "");
  // The bodies must exercise the scanner, not only its refusals.
  CAF_CHECK_GREATER(arrays, 1000u);
  CAF_CHECK_GREATER(filled_cells, 500u);
}

CAF_TEST(the writer agrees with dump on random strings) {
  std::mt19937 rng(7);
  // ASCII bytes, quotes and valid multibyte sequences; dump() refuses invalid UTF-8.
  static constexpr std::array<std::string_view, 5> multibyte{
      "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xdf\xbf", "\xef\xbf\xbf"};
  std::string first_disagreement;
  for (int i = 0; i < 5000; ++i) {
    std::string text;
    for (std::uint32_t j = 0, n = rng() % 24; j < n; ++j) {
      const auto pick = rng() % 10;
      if (pick < 6)
        text += static_cast<char>(rng() % 128);
      else if (pick < 8)
        text += multibyte[rng() % multibyte.size()];
      else
        text += pick == 8 ? '"' : '\\';
    }
    if (written(text) != dumped(text) && first_disagreement.empty())
      first_disagreement = text;
  }
  CAF_CHECK_EQUAL(first_disagreement, "");
}
