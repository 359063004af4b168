#include "bench/loadgen/http_connection.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace diffplane::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {
// Batch-status answers carry every polled job's result; leave room far beyond 1,000 ids.
constexpr std::uint64_t answer_body_limit = 256u * 1024 * 1024;
} // namespace

http_connection::http_connection(executor strand, const server_address& address)
    : address_(address), stream_(std::move(strand)) {}

task<http_answer> http_connection::exchange(http_call call,
                                            std::chrono::milliseconds timeout) {
  http_answer answer;
  auto token = asio::redirect_error(use_task, answer.error);
  // One deadline for connect, write and read: a server that stops answering shows up as
  // a timeout error instead of a hung benchmark.
  stream_.expires_after(timeout);
  if (!connected_) {
    co_await stream_.async_connect(address_.endpoints, token);
    if (answer.error) {
      close();
      co_return answer;
    }
    // Small requests must leave at once; Nagle would add up to 40 ms to each exchange.
    beast::error_code ignored;
    stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    connected_ = true;
  }

  http::request<http::string_body> request{call.method, call.target, 11};
  request.set(http::field::host, address_.host);
  request.set(http::field::authorization, address_.authorization);
  if (!call.machine_id.empty())
    request.set("x-machine-id", call.machine_id);
  if (!call.body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = std::move(call.body);
  }
  request.keep_alive(true);
  request.prepare_payload();
  co_await http::async_write(stream_, request, token);
  if (answer.error) {
    close();
    co_return answer;
  }

  http::response_parser<http::string_body> parser;
  parser.body_limit(answer_body_limit);
  co_await http::async_read(stream_, buffer_, parser, token);
  if (answer.error) {
    close();
    co_return answer;
  }
  auto response = parser.release();
  answer.status = response.result_int();
  answer.body = std::move(response.body());
  if (!response.keep_alive())
    close();
  co_return answer;
}

void http_connection::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
  buffer_.clear();
  connected_ = false;
}

} // namespace diffplane::bench
