#include "bench/tools/http_204_server.hpp"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace diffplane::bench {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

asio::awaitable<void> answer_requests(tcp::socket socket) {
  boost::beast::flat_buffer buffer;
  try {
    for (;;) {
      http::request<http::string_body> request;
      co_await http::async_read(socket, buffer, request, asio::use_awaitable);
      http::response<http::empty_body> response{http::status::no_content,
                                                request.version()};
      response.keep_alive(request.keep_alive());
      co_await http::async_write(socket, response, asio::use_awaitable);
      if (!request.keep_alive())
        break;
    }
  } catch (const boost::system::system_error&) {
    // The client closed or reset the connection: nothing to answer.
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
}

// Each connection gets a strand of its own, as the gateway's do, so that with several
// threads the baseline pays the same synchronisation.
asio::awaitable<void> accept_connections(tcp::acceptor& acceptor, asio::io_context& io) {
  for (;;) {
    auto socket =
        co_await acceptor.async_accept(asio::make_strand(io), asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(socket.get_executor(), answer_requests(std::move(socket)),
                   asio::detached);
  }
}

tcp::endpoint parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    throw std::invalid_argument("--listen must be HOST:PORT: " + listen);
  return {asio::ip::make_address(listen.substr(0, colon)),
          static_cast<unsigned short>(std::stoul(listen.substr(colon + 1)))};
}

} // namespace

int serve_http_204(const http_204_plan& plan) {
  const int threads =
      plan.threads > 0
          ? plan.threads
          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  asio::io_context io{threads};
  tcp::acceptor acceptor{io, parse_listen(plan.listen)};
  acceptor.listen(asio::socket_base::max_listen_connections);
  if (!plan.port_file.empty()) {
    // Written whole under another name, then renamed: a reader never sees half a file.
    const auto partial = plan.port_file + ".partial";
    std::ofstream{partial} << "http=" << acceptor.local_endpoint().port() << '\n';
    std::rename(partial.c_str(), plan.port_file.c_str());
  }
  asio::signal_set signals{io, SIGINT, SIGTERM};
  signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
  asio::co_spawn(io, accept_connections(acceptor, io), asio::detached);
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i)
    workers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& worker : workers)
    worker.join();
  return 0;
}

} // namespace diffplane::bench
