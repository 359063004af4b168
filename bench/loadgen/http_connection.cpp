#include "bench/loadgen/http_connection.hpp"

#include "bench/loadgen/http_wire.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

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

  write_request(
      request_,
      {call.method, call.target, address_.host, address_.authorization, call.machine_id},
      call.body);
  co_await asio::async_write(stream_, asio::buffer(request_), token);
  if (answer.error) {
    close();
    co_return answer;
  }

  answer_parser parser;
  parser.body_limit(answer_body_limit);
  co_await http::async_read(stream_, buffer_, parser, token);
  if (answer.error) {
    close();
    co_return answer;
  }
  answer.status = parser.status();
  answer.body = std::move(parser.body());
  if (!parser.keep_alive())
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
