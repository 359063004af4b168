// Arbitrary bytes as one connection's request stream, read as http_server.cpp reads it
// (request_reader with the default header and body limits, parse_target), routed by the
// server's real routes over an answering bridge, and answered through
// write_response_head. Checks what the server promises every client: each request that
// parses gets exactly one answer, and that answer is well-formed HTTP (no request text
// can split it).
#include "answering_bridge.hpp"
#include "config/server_options.hpp"
#include "gateway/http_wire.hpp"
#include "gateway/routes.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace diffplane;
using namespace diffplane::gateway;
namespace http = boost::beast::http;

namespace {

constexpr const char* management_secret = "sk_management_fuzzfuzzfuzzfuzzfuzzfuzz";

struct server_routes {
  fuzz::answering_bridge bridge;
  route_context context{bridge, management_secret, decode_limits{}, "contract"};
  router routes;

  server_routes() {
    add_api_routes(routes, context);
  }
};

[[noreturn]] void broken(const char* promise, std::string_view detail) {
  std::fprintf(stderr, "broken promise: %s\n%.*s\n", promise,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

/// The answer as a client reads it: Beast must parse what we wrote, whole.
void check_wire(const http_response& response, unsigned version, bool keep_alive) {
  std::string wire;
  write_response_head(wire, response, version, keep_alive);
  if (status_has_body(response.status))
    wire += response.body;
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(boost::none);
  if (!status_has_body(response.status))
    parser.skip(true);
  boost::beast::error_code ec;
  auto used = parser.put(boost::asio::buffer(wire), ec);
  if (ec || !parser.is_done() || used != wire.size())
    broken("an answer is one well-formed HTTP response", wire);
  if (status_has_body(response.status) && parser.get().body() != response.body)
    broken("an answer's body arrives as sent", wire);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static server_routes server;
  static const config::server_options defaults;
  std::string_view rest{reinterpret_cast<const char*>(data), size};
  // A connection carries requests until one asks to close or cannot be read.
  while (!rest.empty()) {
    request_reader reader;
    reader.eager(true);
    reader.body_limit(defaults.body_limit_bytes);
    reader.header_limit(static_cast<std::uint32_t>(defaults.header_limit_bytes));
    boost::beast::error_code ec;
    std::size_t used = 0;
    while (!ec && !reader.is_done() && used < rest.size()) {
      auto n =
          reader.put(boost::asio::buffer(rest.data() + used, rest.size() - used), ec);
      if (n == 0 && ec == http::error::need_more)
        break;
      used += n;
      if (ec == http::error::need_more)
        ec = {};
    }
    if (!reader.is_done()) {
      // The client went away mid-request (need_more): nothing to answer.
      if (ec && ec != http::error::need_more)
        check_wire(
            read_error_answer(ec, defaults.body_limit_bytes, defaults.header_limit_bytes),
            reader.version(), false);
      return 0;
    }
    rest.remove_prefix(used);
    bool keep_alive = reader.keep_alive();
    unsigned version = reader.version();
    http_request request = std::move(reader.request());
    request.remote_ip = "127.0.0.1";
    int answers = 0;
    http_response answer;
    if (!parse_target(request.target, request)) {
      answer = json_error(400, "malformed request target");
      answers = 1;
    } else {
      server.routes.dispatch(request, [&](http_response response) {
        ++answers;
        answer = std::move(response);
      });
    }
    if (answers != 1)
      broken("every request gets exactly one answer", request.target);
    check_wire(answer, version, keep_alive);
    if (!keep_alive)
      return 0;
  }
  return 0;
}
