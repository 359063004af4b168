#pragma once

#include "gateway/router.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace diffplane::gateway {

class actor_bridge;
class connection_limits;

struct http_server_options {
  std::string host = "0.0.0.0";
  std::uint16_t port = 4000;
  unsigned threads = 1;
  std::size_t body_limit = 4 * 1024 * 1024;
  std::size_t header_limit = 16 * 1024;
  /// A connection silent this long between requests (or while sending one) is closed,
  /// within a quarter of it more (at most a second more): one sweep checks them all.
  std::chrono::seconds idle_timeout{60};
  /// PEM files of the certificate chain and its private key: set, the server speaks
  /// HTTPS only; empty, plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// Connections open at once; one more is closed at once, unanswered, so the process
  /// never runs out of file descriptors. 0: no limit.
  std::size_t max_connections = 0;
  /// Connections open at once from one client IP address; one more is answered 429
  /// (closed unanswered on a TLS listener) without its request being read. 0: no limit.
  std::size_t max_connections_per_address = 0;
  /// When set, this server's connections count against these limits, shared with the
  /// other listeners of the process that hold them (one budget of file descriptors),
  /// and max_connections and max_connections_per_address are not used.
  std::shared_ptr<connection_limits> shared_limits;
  /// The value of the Server header of every answer ("diffplane/0.1.0"); empty: no
  /// Server header, so a scanner cannot read the version off any answer.
  std::string server_header;
  /// The `listener` label of this server's connection metrics.
  std::string listener = "gateway";
  /// The bridge the routes call, if any: with one thread, the requests the server reads
  /// in one turn of its event loop reach the actors as one bridge message (a hand-off
  /// to the actor thread per turn, not per request). With more threads each request is
  /// a message of its own: a batch is per thread, and Asio may run the handler that
  /// ends it on another thread.
  actor_bridge* bridge = nullptr;
};

/// HTTP/1.1 with keep-alive on Boost.Beast, run by a few Asio threads. Handlers answer
/// through a responder that may be called from any thread; no thread waits for them.
/// A connection reads its next request only once the answer to the last one is written,
/// so it holds at most one request (one parked long-poll) at a time.
class http_server {
public:
  http_server(http_server_options options, const router& routes);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Loads the TLS certificate if any, binds, starts the threads and returns the bound
  /// port; throws std::runtime_error with a one-line message.
  std::uint16_t start();

  /// Closes the listening socket; requests in flight go on.
  void stop_accepting();

  /// Waits until no request is in flight; false when `deadline` passed first.
  bool drain(std::chrono::milliseconds deadline);

  /// Stops the threads and closes every connection.
  void stop();

  /// Requests received and not yet answered.
  std::size_t in_flight() const;

  /// Connections open now, refused ones included while their refusal is written.
  std::size_t open_connections() const;

  /// The Beast side, defined in http_server.cpp (public so its sessions can name it).
  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace diffplane::gateway
