#include "native/native_server.hpp"

#include "gateway/connection_limits.hpp"
#include "gateway/log_throttle.hpp"
#include "gateway/tls_context.hpp"
#include "metrics/catalog.hpp"
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
  /// After a failed accept (out of file descriptors, say), the next waits this long
  /// instead of failing again at once in a loop.
  asio::steady_timer accept_pause{*io};
  metrics::connection_metrics metrics = metrics::make_connection_metrics("native");
  /// Touched by the accept handler only, on the one I/O thread.
  gateway::log_throttle accept_warnings;
  gateway::log_throttle full_warnings;
  /// Set when the connections are TLS.
  std::unique_ptr<asio::ssl::context> tls;
  /// The open connections, so stop() can close them.
  std::vector<std::weak_ptr<session>> sessions;
  std::thread thread;

  impl(native_server_options o, gateway::actor_bridge& b)
      : options(std::move(o)), bridge(b) {
    if (!options.limits)
      options.limits = std::make_shared<gateway::connection_limits>(0, 0);
  }

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
      if (ec)
        return on_accept_failed(ec);
      admit(std::move(socket));
      accept();
    });
  }

  void on_accept_failed(const boost::system::error_code& ec) {
    // Out of descriptors, accepting again at once fails again at once: a busy loop that
    // floods the log. Pause instead, and say so at most every 10 s.
    metrics.accept_failures.add();
    if (accept_warnings.allow()) {
      spdlog::warn("event=native_accept_failed reason=\"{}\" not_logged_since={} "
                   "pause_ms=100",
                   ec.message(), accept_warnings.held_back);
      accept_warnings.held_back = 0;
    }
    accept_pause.expires_after(std::chrono::milliseconds{100});
    accept_pause.async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec && acceptor.is_open())
        accept();
    });
  }

  void admit(asio::ip::tcp::socket socket) {
    boost::system::error_code ec;
    auto endpoint = socket.remote_endpoint(ec);
    if (ec)
      return; // gone already; the socket closes with its destructor
    auto address = endpoint.address().to_string();
    gateway::connection_slot slot;
    auto verdict = options.limits->admit(address, slot, &metrics.open);
    if (verdict == gateway::connection_limits::verdict::over_total) {
      metrics.refused_total.add();
      if (full_warnings.allow()) {
        spdlog::warn("event=native_connections_full max_connections={} "
                     "refused_not_logged={}",
                     options.limits->max_total(), full_warnings.held_back);
        full_warnings.held_back = 0;
      }
      socket.close(ec);
      return;
    }
    bool over_address = verdict == gateway::connection_limits::verdict::over_address;
    if (over_address) {
      metrics.refused_per_address.add();
      spdlog::debug("event=native_connection_refused remote={} limit=per_address max={}",
                    address, options.limits->max_per_address());
      // A TLS client would read a plain frame as garbage, and a handshake only to
      // refuse costs what the limit saves: it is closed unanswered.
      if (tls) {
        socket.close(ec);
        return;
      }
    }
    auto s = std::make_shared<session>(io, std::move(socket), tls.get(), options, bridge,
                                       std::move(slot));
    std::erase_if(sessions, [](const auto& w) { return w.expired(); });
    sessions.push_back(s);
    if (over_address)
      s->refuse("too_many_connections", "too many connections from this address");
    else
      s->start();
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
    i.accept_pause.cancel();
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
