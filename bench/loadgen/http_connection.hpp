#pragma once

#include "bench/loadgen/executor.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace diffplane::bench {

/// Where every connection goes and how it authenticates; shared by all connections.
struct server_address {
  boost::asio::ip::tcp::resolver::results_type endpoints;
  std::string host;          ///< Sent as the Host header.
  std::string authorization; ///< The whole Authorization header value.
};

/// One request: method, target, JSON body (empty for none) and the worker's machine id.
struct http_call {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target;
  std::string body;
  std::string_view machine_id; ///< Sent as x-machine-id when not empty.
};

/// What came back; `error` set means no complete answer arrived (status is then 0).
struct http_answer {
  boost::beast::error_code error;
  unsigned status = 0;
  std::string body;
};

/// A keep-alive HTTP/1.1 client connection: one exchange at a time, reconnecting on
/// demand.
class http_connection {
public:
  http_connection(executor strand, const server_address& address);

  /// Sends `call` and reads the answer; a transport error closes the connection so the
  /// next exchange reconnects. Must be awaited on the connection's executor.
  // Pass a named, moved http_call: GCC 12 destroys a braced temporary built inside the
  // co_await expression twice (a double free we hit).
  task<http_answer> exchange(http_call call, std::chrono::milliseconds timeout);

  /// Closes the socket, cancelling an exchange in progress (call on the executor).
  void close();

private:
  const server_address& address_;
  tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  /// The request being sent; kept so that its storage is reused.
  std::string request_;
  bool connected_ = false;
};

} // namespace diffplane::bench
