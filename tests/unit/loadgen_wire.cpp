#define CAF_SUITE loadgen_wire

#include "bench/loadgen/http_wire.hpp"
#include "parse_in_pieces.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <caf/test/unit_test.hpp>

#include <string>
#include <string_view>

using namespace diffplane::bench;
using diffplane::test::parse_in_pieces;
namespace http = boost::beast::http;

namespace {

http::request<http::string_body> read_back(const std::string& wire) {
  http::request_parser<http::string_body> parser;
  CAF_REQUIRE(!parse_in_pieces(parser, wire));
  return parser.release();
}

} // namespace

CAF_TEST(a request with a body reads back as Beast would have written it) {
  std::string wire;
  write_request(
      wire, {http::verb::post, "/jobs-request", "127.0.0.1:8080", "Basic sk_1", "m-1"},
      R"({"limit":10})");
  auto request = read_back(wire);
  CAF_CHECK(request.method() == http::verb::post);
  CAF_CHECK_EQUAL(request.target(), "/jobs-request");
  CAF_CHECK_EQUAL(request.version(), 11u);
  CAF_CHECK(request.keep_alive());
  CAF_CHECK_EQUAL(request[http::field::host], "127.0.0.1:8080");
  CAF_CHECK_EQUAL(request[http::field::authorization], "Basic sk_1");
  CAF_CHECK_EQUAL(request["x-machine-id"], "m-1");
  CAF_CHECK_EQUAL(request[http::field::content_type], "application/json");
  CAF_CHECK_EQUAL(request.body(), R"({"limit":10})");
}

CAF_TEST(requests without a body say so only where the method expects one) {
  std::string wire;
  write_request(wire, {http::verb::get, "/jobs/1", "h", "Basic s", {}}, {});
  auto get = read_back(wire);
  CAF_CHECK(get.method() == http::verb::get);
  CAF_CHECK_EQUAL(get.count(http::field::content_length), 0u);
  CAF_CHECK_EQUAL(get.count("x-machine-id"), 0u);
  // The buffer is reused: a second request replaces the first entirely.
  write_request(wire, {http::verb::post, "/clusters", "h", "Basic s", {}}, {});
  auto post = read_back(wire);
  CAF_CHECK(post.method() == http::verb::post);
  CAF_CHECK_EQUAL(post[http::field::content_length], "0");
  CAF_CHECK(post.body().empty());
}

CAF_TEST(an answer keeps its status and body) {
  answer_parser parser;
  CAF_REQUIRE(!parse_in_pieces(
      parser, "HTTP/1.1 201 Created\r\nServer: diffplane\r\n"
              "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n"
              R"({"id":"a"})"
              "\n"));
  CAF_CHECK_EQUAL(parser.status(), 201u);
  CAF_CHECK_EQUAL(parser.body(), "{\"id\":\"a\"}\n");
  CAF_CHECK(parser.keep_alive());
}

CAF_TEST(a chunked answer is joined and a closing one says so) {
  answer_parser parser;
  CAF_REQUIRE(!parse_in_pieces(parser,
                               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                               "Connection: close\r\n\r\n"
                               "4\r\n[1,2\r\n3\r\n,3]\r\n0\r\n\r\n",
                               5));
  CAF_CHECK_EQUAL(parser.status(), 200u);
  CAF_CHECK_EQUAL(parser.body(), "[1,2,3]");
  CAF_CHECK(!parser.keep_alive());
}

CAF_TEST(an answer without a body has an empty one) {
  answer_parser parser;
  CAF_REQUIRE(
      !parse_in_pieces(parser, "HTTP/1.1 204 No Content\r\nServer: diffplane\r\n\r\n"));
  CAF_CHECK_EQUAL(parser.status(), 204u);
  CAF_CHECK(parser.body().empty());
  CAF_CHECK(parser.keep_alive());
}
