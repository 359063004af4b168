#include "gateway/http_server.hpp"

#include "gateway/actor_bridge.hpp"
#include "gateway/connection_deadlines.hpp"
#include "gateway/connection_limits.hpp"
#include "gateway/deferred_wakes.hpp"
#include "gateway/http_wire.hpp"
#include "gateway/log_throttle.hpp"
#include "gateway/tls_context.hpp"
#include "metrics/catalog.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace diffplane::gateway {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
/// Sockets on concrete executors (a strand, or the io_context's own) rather than Asio's
/// type-erased default: the erasure's copies and lookups were 6 % of the server's CPU
/// under load (docs/BENCHMARKS.md, fourth round).
template <class Executor> using socket_of = net::basic_stream_socket<tcp, Executor>;

struct http_server::impl {
  http_server_options options;
  const router& routes;
  metrics::connection_metrics metrics;
  /// Declared before `io`: sessions still queued in `io` give their places back here
  /// when `io` is destroyed.
  std::shared_ptr<connection_limits> limits;
  connection_deadlines deadlines;
  net::io_context io;
  /// Keeps the threads running while requests wait for the actors with no socket
  /// operation pending (after stop_accepting, nothing else would).
  net::executor_work_guard<net::io_context::executor_type> work{io.get_executor()};
  tcp::acceptor acceptor{io};
  /// After a failed accept (out of file descriptors, say), the next waits this long
  /// instead of failing again at once in a loop.
  net::steady_timer accept_pause{io};
  /// Checks every connection's deadline, a few times per idle timeout.
  net::steady_timer sweep{io};
  /// Touched by the accept handler only, which never runs twice at once.
  log_throttle accept_warnings;
  log_throttle full_warnings;
  std::vector<std::thread> threads;
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> stopping{false};
  /// Set with a certificate: every connection of this server speaks TLS.
  std::unique_ptr<net::ssl::context> tls;
  /// Answers handed over from other threads (each a session's respond(), to run on its
  /// executor), run by one posted handler: the answers that come before it runs share its
  /// post and the wake of the loop's thread.
  std::mutex answers_mutex;
  std::vector<std::function<void()>> answers;
  bool answers_posted = false;

  impl(http_server_options opts, const router& r)
      : options(std::move(opts)), routes(r),
        metrics(metrics::make_connection_metrics(options.listener)),
        limits(options.shared_limits
                   ? options.shared_limits
                   : std::make_shared<connection_limits>(
                         options.max_connections, options.max_connections_per_address)),
        io(static_cast<int>(std::max(1u, options.threads))) {}

  /// Opens this thread's bridge batch for the rest of the event loop's turn, unless
  /// open already (see http_server_options::bridge).
  void gather_turn();
  /// Runs `answer` on the loop soon, with the other answers handed over until then.
  void hand_over(std::function<void()> answer);
  void run_answers();
  void sweep_deadlines();
  void accept();
  /// Accepts connections whose handlers run on a strand each, or on the loop directly.
  template <bool Strands> void accept_on();
  void on_accept_failed(const beast::error_code& ec);
  /// Starts a session for `socket`, or refuses it over a limit.
  template <class Executor> void admit(socket_of<Executor> socket);
};

namespace {

/// The server whose bridge batch this thread has open (one thread runs one server).
thread_local http_server::impl* batching_server = nullptr;

} // namespace

void http_server::impl::gather_turn() {
  if (options.bridge == nullptr || options.threads > 1 || batching_server == this)
    return;
  batching_server = this;
  options.bridge->begin_batch();
  // Posted from the loop's only thread, this runs after the handlers ready now (the
  // reads the last poll of the sockets found, the writes and reads completed since):
  // their requests join the batch, and a lone request waits for nothing but that.
  net::post(io, [this] {
    batching_server = nullptr;
    options.bridge->end_batch();
  });
}

void http_server::impl::hand_over(std::function<void()> answer) {
  {
    std::lock_guard lock{answers_mutex};
    answers.push_back(std::move(answer));
    if (answers_posted)
      return;
    answers_posted = true;
  }
  // A bridge actor keeps this post until the end of its turn (deferred_wakes), so the
  // answers of one turn wake the loop's thread once.
  deferred_wakes::wake([this] { net::post(io, [this] { run_answers(); }); });
}

void http_server::impl::sweep_deadlines() {
  sweep.expires_after(connection_deadlines::interval_for(options.idle_timeout));
  sweep.async_wait([this](beast::error_code ec) {
    if (ec)
      return;
    deadlines.expire_due(connection_deadlines::clock::now());
    sweep_deadlines();
  });
}

void http_server::impl::run_answers() {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock{answers_mutex};
    ready.swap(answers);
    answers_posted = false;
  }
  for (auto& answer : ready)
    answer();
}

namespace {

using metrics::tls_handshakes_failed;

/// How long a refused connection may take to receive its 429, and to be drained of
/// what it sent meanwhile (plus up to one sweep interval): long enough for a client on a
/// sane network, short enough that refusals cannot pile up.
constexpr auto refusal_deadline = std::chrono::seconds{1};

/// Closes `connection`'s socket on the connection's own executor, unless an operation
/// there re-armed its deadline since the sweep found it overdue.
template <class Connection> void cut_if_overdue(std::shared_ptr<Connection> connection) {
  auto executor = connection->socket().get_executor();
  net::dispatch(executor, [connection = std::move(connection)] {
    if (!connection->overdue(connection_deadlines::clock::now()))
      return;
    connection->disarm();
    connection->close_socket();
  });
}

/// The whole answer to a connection over its address's limit.
const std::string& refusal_answer() {
  static const std::string answer = [] {
    auto response = json_error(429, "too many connections from this address");
    std::string wire;
    write_response_head(wire, response, 11, false);
    return wire + response.body;
  }();
  return answer;
}

/// A connection over its address's limit: answered 429 without reading a request, then
/// closed. Holds its place in the total until then, so refusals count against the
/// file-descriptor budget too.
template <class Executor>
class refusal : public connection_deadlines::entry,
                public std::enable_shared_from_this<refusal<Executor>> {
public:
  refusal(socket_of<Executor> socket, connection_slot slot)
      : slot_(std::move(slot)), socket_(std::move(socket)) {}

  void start(connection_deadlines& deadlines) {
    deadlines.watch(this->shared_from_this());
    net::dispatch(socket_.get_executor(), [self = this->shared_from_this()] {
      // One deadline for the answer and the drain.
      self->arm(connection_deadlines::clock::now() + refusal_deadline);
      net::async_write(self->socket_, net::buffer(refusal_answer()),
                       [self](beast::error_code ec, std::size_t) {
                         if (ec)
                           return self->close_socket();
                         beast::error_code ignored;
                         self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                         self->drain();
                       });
    });
  }

  void expire() override { cut_if_overdue(this->shared_from_this()); }
  socket_of<Executor>& socket() { return socket_; }
  void close_socket() {
    beast::error_code ignored;
    socket_.close(ignored);
  }

private:
  /// Reads and drops what the client sent until it closes: closing with unread bytes
  /// would reset the connection, and the client might lose the answer.
  void drain() {
    socket_.async_read_some(
        net::buffer(scratch_),
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec)
            return self->close_socket();
          self->drain();
        });
  }

  /// Before the socket: the socket is closed before the place is given back.
  connection_slot slot_;
  socket_of<Executor> socket_;
  std::array<char, 1024> scratch_{};
};

/// One connection. A template over the stream rather than a virtual stream, so that
/// plain HTTP keeps its direct calls; TLS differs only in the handshake and the close.
template <class Stream>
class session : public connection_deadlines::entry,
                public std::enable_shared_from_this<session<Stream>> {
  using socket_type = beast::lowest_layer_type<Stream>;
  static constexpr bool tls = !std::is_same_v<Stream, socket_type>;

public:
  /// `layers` is the TLS context for a TLS stream, nothing for plain TCP.
  template <class... Layers>
  session(socket_type socket, http_server::impl& server, connection_slot slot,
          std::string remote_ip, Layers&... layers)
      : slot_(std::move(slot)), stream_(std::move(socket), layers...), server_(server),
        remote_ip_(std::move(remote_ip)) {}

  void start() {
    server_.deadlines.watch(this->shared_from_this());
    net::dispatch(socket().get_executor(),
                  beast::bind_front_handler(&session::begin, this->shared_from_this()));
  }

  void expire() override { cut_if_overdue(this->shared_from_this()); }
  socket_type& socket() { return beast::get_lowest_layer(stream_); }

  void close_socket() {
    beast::error_code ec;
    socket().shutdown(tcp::socket::shutdown_send, ec);
    socket().close(ec);
  }

private:
  /// Gives the operation about to start the idle timeout from `now`.
  void arm_idle(connection_deadlines::clock::time_point now) {
    arm(now + server_.options.idle_timeout);
  }

  void begin() {
    if constexpr (tls) {
      // The handshake is bounded like a request: a client that opens a connection and
      // stalls in the handshake is closed after the idle timeout.
      arm_idle(connection_deadlines::clock::now());
      stream_.async_handshake(
          net::ssl::stream_base::server,
          beast::bind_front_handler(&session::on_handshake, this->shared_from_this()));
    } else {
      read();
    }
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      // Plain HTTP on the TLS port, an untrusted certificate, a scanner: that
      // connection's problem only, hence debug.
      tls_handshakes_failed().add();
      spdlog::debug("event=tls_handshake_failed remote={} reason=\"{}\"", remote_ip_,
                    ec.message());
      return close_socket();
    }
    read();
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(server_.options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
    arm_idle(connection_deadlines::clock::now());
    http::async_read(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&session::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    // One test on the hot path; the error kinds are told apart only when there is one.
    if (ec)
      return on_read_failed(ec);
    disarm();
    keep_alive_ = parser_->keep_alive();
    version_ = parser_->version();
    http_request request = std::move(parser_->request());
    request.remote_ip = remote_ip_;
    server_.in_flight.fetch_add(1);
    started_ = std::chrono::steady_clock::now();
    if (!parse_target(request.target, request)) {
      stats_ = &router::unmatched();
      respond(json_error(400, "malformed request target"));
      return;
    }
    method_ = to_string(request.method);
    path_ = request.path;
    auto self = this->shared_from_this();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    server_.gather_turn();
    stats_ = &server_.routes.dispatch(request, [self, answered](http_response response) {
      if (answered->exchange(true))
        return; // a handler answered twice: keep the first
      self->server_.hand_over([self, response = std::move(response)]() mutable {
        net::dispatch(self->socket().get_executor(),
                      [self, response = std::move(response)]() mutable {
                        self->respond(std::move(response));
                      });
      });
    });
  }

  /// Ends a connection whose next request could not be read: quietly when the client
  /// left or stalled (a read cut at its deadline ends aborted), with an error answer
  /// when it sent something unacceptable.
  void on_read_failed(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::eof)
      return close();
    if (ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::ssl::error::stream_truncated)
      return close_socket();
    reject(
        read_error_answer(ec, server_.options.body_limit, server_.options.header_limit));
  }

  /// Answers a request that could not be read, then closes the connection.
  void reject(http_response response) {
    keep_alive_ = false;
    stats_ = &router::unmatched();
    server_.in_flight.fetch_add(1);
    started_ = std::chrono::steady_clock::now();
    respond(std::move(response));
  }

  void respond(http_response response) {
    bool closing = !keep_alive_ || server_.stopping.load();
    if (!server_.options.server_header.empty())
      response.headers.emplace_back("Server", server_.options.server_header);
    write_response_head(head_, response, version_, !closing);
    body_ = std::move(response.body);
    auto now = std::chrono::steady_clock::now();
    auto elapsed = now - started_;
    stats_->record(response.status, std::chrono::duration<double>(elapsed).count());
    spdlog::debug("event=request method={} path={} status={} micros={}", method_, path_,
                  response.status,
                  std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
    arm_idle(now);
    std::array<net::const_buffer, 2> wire{
        net::buffer(head_),
        net::buffer(body_.data(), status_has_body(response.status) ? body_.size() : 0)};
    net::async_write(
        stream_, wire,
        beast::bind_front_handler(&session::on_write, this->shared_from_this(), closing));
  }

  void on_write(bool closing, beast::error_code ec, std::size_t) {
    server_.in_flight.fetch_sub(1);
    if (ec)
      return close_socket();
    if (closing)
      return close();
    read();
  }

  /// Ends the connection in order: TLS sends its close_notify first (bounded by the
  /// idle timeout), so the client can tell the end from a truncation.
  void close() {
    if constexpr (tls) {
      arm_idle(connection_deadlines::clock::now());
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->close_socket(); });
    } else {
      close_socket();
    }
  }

  /// Before the stream: the socket is closed before the place is given back.
  connection_slot slot_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<request_reader> parser_;
  /// The answer being written, kept until the write completes.
  std::string head_;
  std::string body_;
  http_server::impl& server_;
  std::string remote_ip_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  std::chrono::steady_clock::time_point started_;
  std::string_view method_;
  std::string path_;
  const metrics::route_metrics* stats_ = &router::unmatched();
};

} // namespace

void http_server::impl::accept() {
  // With one thread a connection needs no strand: every handler of the io_context runs
  // on that thread, and a strand's copies, work counting and queue cost on every
  // operation.
  if (options.threads > 1)
    accept_on<true>();
  else
    accept_on<false>();
}

template <bool Strands> void http_server::impl::accept_on() {
  auto executor = [this] {
    if constexpr (Strands)
      return net::make_strand(io);
    else
      return io.get_executor();
  }();
  using executor_type = decltype(executor);
  acceptor.async_accept(
      executor, [this](beast::error_code ec, socket_of<executor_type> socket) {
        if (ec) {
          if (ec == net::error::operation_aborted || !acceptor.is_open())
            return;
          return on_accept_failed(ec);
        }
        admit(std::move(socket));
        accept_on<Strands>();
      });
}

void http_server::impl::on_accept_failed(const beast::error_code& ec) {
  // Out of descriptors, accepting again at once fails again at once: a busy loop that
  // floods the log. Pause instead, and say so at most every 10 s.
  metrics.accept_failures.add();
  if (accept_warnings.allow()) {
    spdlog::warn("event=accept_failed reason=\"{}\" not_logged_since={} pause_ms=100",
                 ec.message(), accept_warnings.held_back);
    accept_warnings.held_back = 0;
  }
  accept_pause.expires_after(std::chrono::milliseconds{100});
  accept_pause.async_wait([this](beast::error_code wait_ec) {
    if (!wait_ec && acceptor.is_open())
      accept();
  });
}

template <class Executor> void http_server::impl::admit(socket_of<Executor> socket) {
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec)
    return; // gone already; the socket closes with its destructor
  auto address = endpoint.address().to_string();
  connection_slot slot;
  switch (limits->admit(address, slot, &metrics.open)) {
  case connection_limits::verdict::over_total:
    metrics.refused_total.add();
    if (full_warnings.allow()) {
      spdlog::warn("event=connections_full max_connections={} refused_not_logged={}",
                   limits->max_total(), full_warnings.held_back);
      full_warnings.held_back = 0;
    }
    socket.close(ec);
    return;
  case connection_limits::verdict::over_address:
    metrics.refused_per_address.add();
    spdlog::debug("event=connection_refused remote={} limit=per_address max={}", address,
                  limits->max_per_address());
    // A TLS client would read a plain answer as garbage, and a handshake only to refuse
    // costs what the limit saves: it is closed unanswered.
    if (!tls)
      std::make_shared<refusal<Executor>>(std::move(socket), std::move(slot))
          ->start(deadlines);
    return;
  case connection_limits::verdict::admitted:
    break;
  }
  socket.set_option(tcp::no_delay{true}, ec);
  using stream_type = socket_of<Executor>;
  if (tls)
    std::make_shared<session<beast::ssl_stream<stream_type>>>(
        std::move(socket), *this, std::move(slot), std::move(address), *tls)
        ->start();
  else
    std::make_shared<session<stream_type>>(std::move(socket), *this, std::move(slot),
                                           std::move(address))
        ->start();
}

http_server::http_server(http_server_options options, const router& routes)
    : impl_(std::make_unique<impl>(std::move(options), routes)) {}

http_server::~http_server() {
  stop();
}

std::uint16_t http_server::start() {
  auto& im = *impl_;
  if (!im.options.tls_cert_file.empty())
    im.tls = load_server_tls_context(im.options.tls_cert_file, im.options.tls_key_file);
  beast::error_code ec;
  auto address = net::ip::make_address(im.options.host, ec);
  if (ec)
    throw std::runtime_error("cannot listen on '" + im.options.host +
                             "': not an IP address");
  tcp::endpoint endpoint{address, im.options.port};
  im.acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    im.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    im.acceptor.bind(endpoint, ec);
  if (!ec)
    im.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + im.options.host + ":" +
                             std::to_string(im.options.port) + ": " + ec.message());
  auto port = im.acceptor.local_endpoint().port();
  im.accept();
  im.sweep_deadlines();
  for (unsigned i = 0; i < std::max(1u, im.options.threads); ++i)
    im.threads.emplace_back([&im] { im.io.run(); });
  return port;
}

void http_server::stop_accepting() {
  impl_->stopping = true;
  net::post(impl_->acceptor.get_executor(), [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->accept_pause.cancel();
  });
}

bool http_server::drain(std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (impl_->in_flight.load() > 0) {
    if (std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return true;
}

void http_server::stop() {
  if (!impl_)
    return;
  impl_->stopping = true;
  impl_->work.reset();
  impl_->io.stop();
  for (auto& t : impl_->threads)
    if (t.joinable())
      t.join();
  impl_->threads.clear();
}

std::size_t http_server::in_flight() const {
  return impl_->in_flight.load();
}

std::size_t http_server::open_connections() const {
  return impl_->limits->open();
}

} // namespace diffplane::gateway
