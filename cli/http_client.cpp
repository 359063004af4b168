#include "cli/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <stdexcept>

namespace diffplane::cli {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

http_client::http_client(std::string endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {
  std::string_view rest{endpoint_};
  if (rest.rfind("http://", 0) != 0)
    throw std::runtime_error("endpoint must start with http://, got '" + endpoint_ + "'");
  rest.remove_prefix(7);
  while (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    host_ = std::string{rest};
    port_ = "80";
  } else {
    host_ = std::string{rest.substr(0, colon)};
    port_ = std::string{rest.substr(colon + 1)};
  }
  if (host_.size() > 2 && host_.front() == '[' && host_.back() == ']')
    host_ = host_.substr(1, host_.size() - 2);
}

http_reply
http_client::request(const std::string& method, const std::string& target,
                     const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& headers) {
  net::io_context io;
  beast::tcp_stream stream{io};
  net::ip::tcp::resolver resolver{io};
  beast::error_code ec;
  auto endpoints = resolver.resolve(host_, port_, ec);
  if (ec)
    throw std::runtime_error("cannot resolve " + host_ + ": " + ec.message());
  stream.expires_after(timeout_);
  stream.connect(endpoints, ec);
  if (ec)
    throw std::runtime_error("cannot connect to " + endpoint_ + ": " + ec.message());
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, host_);
  req.set(http::field::user_agent, "diffplane-cli");
  for (const auto& [name, value] : headers)
    req.set(name, value);
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec)
    throw std::runtime_error("cannot send to " + endpoint_ + ": " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1024 * 1024 * 1024);
  http::read(stream, buffer, parser, ec);
  if (ec)
    throw std::runtime_error("no answer from " + endpoint_ + ": " + ec.message());
  auto res = parser.release();
  http_reply reply;
  reply.status = res.result_int();
  reply.body = std::move(res.body());
  for (const auto& field : res)
    reply.headers.emplace_back(std::string{field.name_string()},
                               std::string{field.value()});
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  return reply;
}

} // namespace diffplane::cli
