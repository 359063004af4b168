#define CAF_SUITE http_wire

#include "gateway/http_wire.hpp"
#include "parse_in_pieces.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <caf/test/unit_test.hpp>

#include <string>
#include <string_view>

using namespace diffplane::gateway;
using diffplane::test::parse_in_pieces;
namespace http = boost::beast::http;

namespace {

/// `response` written for an HTTP/`version` client and read back by Beast.
http::response<http::string_body> read_back(const http_response& response,
                                            unsigned version, bool keep_alive) {
  std::string wire;
  write_response_head(wire, response, version, keep_alive);
  if (status_has_body(response.status))
    wire += response.body;
  http::response_parser<http::string_body> parser;
  // Without a Content-Length an answer to HTTP/1.0 runs to the end of the connection.
  if (!status_has_body(response.status))
    parser.skip(true);
  CAF_REQUIRE(!parse_in_pieces(parser, wire));
  return parser.release();
}

} // namespace

CAF_TEST(a request arrives with lower case header names and its body) {
  request_reader reader;
  CAF_REQUIRE(!parse_in_pieces(
      reader, "POST /jobs?x=1 HTTP/1.1\r\nHost: h\r\nAuthorization: Basic s\r\n"
              "X-Machine-ID: m-1\r\nContent-Length: 12\r\n\r\n"
              R"({"limit":10})"));
  auto& request = reader.request();
  CAF_CHECK(request.method == http_method::post);
  CAF_CHECK_EQUAL(request.target, "/jobs?x=1");
  CAF_CHECK_EQUAL(reader.version(), 11u);
  CAF_CHECK(reader.keep_alive());
  CAF_CHECK_EQUAL(request.header("authorization"), "Basic s");
  CAF_CHECK_EQUAL(request.header("x-machine-id"), "m-1");
  CAF_CHECK_EQUAL(request.headers.size(), 4u);
  CAF_CHECK_EQUAL(request.body, R"({"limit":10})");
}

CAF_TEST(a chunked request body is joined) {
  request_reader reader;
  CAF_REQUIRE(!parse_in_pieces(reader,
                               "PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3\r\n{\"a\r\n5\r\n\":1}\n\r\n0\r\n\r\n",
                               3));
  CAF_CHECK(reader.request().method == http_method::put);
  CAF_CHECK_EQUAL(reader.request().body, "{\"a\":1}\n");
}

CAF_TEST(HTTP 1.0 requests close unless they ask to keep alive) {
  request_reader closing;
  CAF_REQUIRE(!parse_in_pieces(closing, "GET /live HTTP/1.0\r\n\r\n"));
  CAF_CHECK_EQUAL(closing.version(), 10u);
  CAF_CHECK(!closing.keep_alive());
  CAF_CHECK(closing.request().method == http_method::get);
  request_reader keeping;
  CAF_REQUIRE(
      !parse_in_pieces(keeping, "GET /live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  CAF_CHECK(keeping.keep_alive());
  request_reader other;
  CAF_REQUIRE(!parse_in_pieces(other, "PATCH /live HTTP/1.1\r\n\r\n"));
  CAF_CHECK(other.request().method == http_method::other);
}

CAF_TEST(the reader enforces the body and header limits) {
  request_reader body;
  body.body_limit(4);
  CAF_CHECK_EQUAL(
      parse_in_pieces(body, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"),
      http::error::body_limit);
  request_reader header;
  header.header_limit(32);
  CAF_CHECK_EQUAL(parse_in_pieces(header, "GET / HTTP/1.1\r\nX-Long: " +
                                              std::string(64, 'a') + "\r\n\r\n"),
                  http::error::header_limit);
}

CAF_TEST(an answer reads back with its status type length and body) {
  http_response response{201, R"({"id":"a"})", "application/json", {{"Allow", "GET"}}};
  auto read = read_back(response, 11, true);
  CAF_CHECK_EQUAL(read.result_int(), 201u);
  CAF_CHECK_EQUAL(read.reason(), "Created");
  // No Server header unless the server adds one (--server-header).
  CAF_CHECK(read.find(http::field::server) == read.end());
  CAF_CHECK_EQUAL(read[http::field::content_type], "application/json");
  CAF_CHECK_EQUAL(read[http::field::content_length], "10");
  CAF_CHECK_EQUAL(read[http::field::allow], "GET");
  CAF_CHECK_EQUAL(read.body(), R"({"id":"a"})");
  CAF_CHECK(read.keep_alive());
}

CAF_TEST(the connection header follows the client version) {
  http_response response{200, "[]", "application/json", {}};
  CAF_CHECK(!read_back(response, 11, false).keep_alive());
  CAF_CHECK_EQUAL(read_back(response, 11, true).count(http::field::connection), 0u);
  auto old_kept = read_back(response, 10, true);
  CAF_CHECK_EQUAL(old_kept.version(), 10u);
  CAF_CHECK(old_kept.keep_alive());
  CAF_CHECK(!read_back(response, 10, false).keep_alive());
}

CAF_TEST(answers without a body carry neither length nor type) {
  http_response no_content{204, "", "application/json", {}};
  auto read = read_back(no_content, 11, true);
  CAF_CHECK_EQUAL(read.result_int(), 204u);
  CAF_CHECK_EQUAL(read.count(http::field::content_length), 0u);
  CAF_CHECK_EQUAL(read.count(http::field::content_type), 0u);
  CAF_CHECK(!status_has_body(304));
  CAF_CHECK(status_has_body(200));
  // Any other empty answer says its length is zero.
  http_response empty{404, "", "application/json", {}};
  // Held in a variable: CAF_CHECK_EQUAL compares after the full expression that would
  // hold a temporary answer (and the header view into it) has ended.
  auto read_empty = read_back(empty, 11, true);
  CAF_CHECK_EQUAL(read_empty[http::field::content_length], "0");
}
