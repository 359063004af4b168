#include "native/native_server.hpp"

#include "gateway/tls_context.hpp"
#include "native/session.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace diffplane::native {

namespace asio = boost::asio;

struct native_server::impl {
  native_server_options options;
  gateway::actor_bridge& bridge;
  /// Shared with the sessions (see session's constructor).
  std::shared_ptr<asio::io_context> io = std::make_shared<asio::io_context>(1);
  asio::ip::tcp::acceptor acceptor{*io};
  /// Set when the connections are TLS.
  std::unique_ptr<asio::ssl::context> tls;
  /// The open connections, so stop() can close them.
  std::vector<std::weak_ptr<session>> sessions;
  std::thread thread;

  impl(native_server_options o, gateway::actor_bridge& b)
      : options(std::move(o)), bridge(b) {}

  /// Runs what was posted after the I/O thread ended (answers of the actors to closed
  /// sessions, which drop them), so that nothing queued keeps a session alive.
  void drain() {
    io->restart();
    io->poll();
  }

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec,
                                 asio::ip::tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open())
        return;
      if (!ec) {
        auto s =
            std::make_shared<session>(io, std::move(socket), tls.get(), options, bridge);
        std::erase_if(sessions, [](const auto& w) { return w.expired(); });
        sessions.push_back(s);
        s->start();
      } else {
        spdlog::warn("event=native_accept_failed reason=\"{}\"", ec.message());
      }
      accept();
    });
  }
};

native_server::native_server(native_server_options options, gateway::actor_bridge& bridge)
    : impl_(std::make_unique<impl>(std::move(options), bridge)) {}

native_server::~native_server() {
  stop();
  impl_->drain();
}

std::uint16_t native_server::start() {
  auto& i = *impl_;
  if (!i.options.tls_cert_file.empty())
    i.tls =
        gateway::load_server_tls_context(i.options.tls_cert_file, i.options.tls_key_file);
  asio::ip::tcp::endpoint endpoint{asio::ip::make_address(i.options.host),
                                   i.options.port};
  i.acceptor.open(endpoint.protocol());
  i.acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  i.acceptor.bind(endpoint);
  i.acceptor.listen();
  auto port = i.acceptor.local_endpoint().port();
  i.accept();
  i.thread = std::thread{[io = i.io] { io->run(); }};
  return port;
}

void native_server::stop() {
  auto& i = *impl_;
  if (!i.thread.joinable())
    return;
  std::promise<void> closed;
  asio::post(*i.io, [&i, &closed] {
    boost::system::error_code ec;
    i.acceptor.close(ec);
    for (auto& weak : i.sessions)
      if (auto s = weak.lock())
        s->close();
    closed.set_value();
  });
  closed.get_future().wait();
  // The closed sessions' cancelled reads, writes and timers complete on the I/O thread,
  // each releasing its session. Stopped before they ran, the context kept them queued,
  // each holding its session, which holds the context: a cycle, leaked at exit. With
  // every socket closed the context runs out of work; a stop after a grace period
  // bounds a shutdown all the same.
  auto finished = std::async(std::launch::async, [&i] { i.thread.join(); });
  if (finished.wait_for(std::chrono::seconds{5}) == std::future_status::timeout)
    i.io->stop();
  finished.wait();
  i.drain();
}

} // namespace diffplane::native
