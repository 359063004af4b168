#include "cli/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <stdexcept>

namespace diffplane::cli {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;

namespace {

/// Runs the operation started on `io` to its end. Every operation of a request is
/// asynchronous, because Beast's stream timeouts (`expires_after`) end asynchronous
/// operations only: a synchronous read from a server that never answers waits forever.
void run(net::io_context& io) {
  io.run();
  io.restart();
}

/// Sends `req` and reads the whole answer, over plain TCP or TLS alike.
template <class Stream>
http_reply exchange(net::io_context& io, Stream& stream,
                    const http::request<http::string_body>& req,
                    const std::string& endpoint) {
  beast::error_code ec;
  http::async_write(stream, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
  run(io);
  if (ec)
    throw std::runtime_error("cannot send to " + endpoint + ": " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1024 * 1024 * 1024);
  http::async_read(stream, buffer, parser,
                   [&ec](beast::error_code e, std::size_t) { ec = e; });
  run(io);
  if (ec)
    throw std::runtime_error("no answer from " + endpoint + ": " + ec.message());
  auto res = parser.release();
  http_reply reply;
  reply.status = res.result_int();
  reply.body = std::move(res.body());
  for (const auto& field : res)
    reply.headers.emplace_back(std::string{field.name_string()},
                               std::string{field.value()});
  return reply;
}

/// A client context that verifies the server's certificate against `ca_file`, or the
/// system's trust store when it is empty.
ssl::context verifying_context(const std::string& ca_file) {
  ssl::context context{ssl::context::tls_client};
  context.set_verify_mode(ssl::verify_peer);
  beast::error_code ec;
  if (ca_file.empty())
    context.set_default_verify_paths(ec);
  else
    context.load_verify_file(ca_file, ec);
  if (ec)
    throw std::runtime_error("cannot read the CA certificates '" + ca_file +
                             "': " + ec.message());
  return context;
}

} // namespace

http_client::http_client(std::string endpoint, std::chrono::milliseconds timeout,
                         std::string ca_file)
    : endpoint_(std::move(endpoint)), ca_file_(std::move(ca_file)), timeout_(timeout) {
  std::string_view rest{endpoint_};
  if (rest.rfind("https://", 0) == 0) {
    tls_ = true;
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else {
    throw std::runtime_error("endpoint must start with http:// or https://, got '" +
                             endpoint_ + "'");
  }
  while (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || rest.back() == ']') {
    host_ = std::string{rest};
    port_ = tls_ ? "443" : "80";
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

  net::io_context io;
  net::ip::tcp::resolver resolver{io};
  beast::error_code ec;
  auto endpoints = resolver.resolve(host_, port_, ec);
  if (ec)
    throw std::runtime_error("cannot resolve " + host_ + ": " + ec.message());
  // One deadline for the whole request: connect, handshake, write and read.
  auto connect = [&](beast::tcp_stream& tcp) {
    tcp.expires_after(timeout_);
    tcp.async_connect(endpoints, [&ec](beast::error_code e, const auto&) { ec = e; });
    run(io);
    if (ec)
      throw std::runtime_error("cannot connect to " + endpoint_ + ": " + ec.message());
  };
  if (!tls_) {
    beast::tcp_stream stream{io};
    connect(stream);
    auto reply = exchange(io, stream, req, endpoint_);
    stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    return reply;
  }
  auto context = verifying_context(ca_file_);
  beast::ssl_stream<beast::tcp_stream> stream{io, context};
  // Server Name Indication is for names only; an IP address is checked against the
  // certificate's IP entries.
  net::ip::make_address(host_, ec);
  if (ec)
    SSL_set_tlsext_host_name(stream.native_handle(), host_.c_str());
  stream.set_verify_callback(ssl::host_name_verification(host_));
  connect(beast::get_lowest_layer(stream));
  stream.async_handshake(ssl::stream_base::client,
                         [&ec](beast::error_code e) { ec = e; });
  run(io);
  if (ec)
    throw std::runtime_error("TLS handshake with " + endpoint_ +
                             " failed: " + ec.message());
  auto reply = exchange(io, stream, req, endpoint_);
  // The answer is complete; a missing close_notify changes nothing.
  stream.async_shutdown([](beast::error_code) {});
  run(io);
  return reply;
}

} // namespace diffplane::cli
