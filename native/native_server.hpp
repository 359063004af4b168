#pragma once

#include "gateway/actor_bridge.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

// The listener of native clients (docs/native-protocol.md): framed msgpack over TCP,
// turned into the same actor requests the HTTP routes make, through the gateway's
// actor_bridge.
namespace diffplane::gateway {
class connection_limits;
} // namespace diffplane::gateway

namespace diffplane::native {

struct native_server_options {
  std::string host = "127.0.0.1";
  /// 0: the kernel chooses (start() returns it).
  std::uint16_t port = 0;
  /// The largest frame after authentication.
  std::size_t max_frame = 4 * 1024 * 1024 + 4096;
  /// How often each side sends at least a ping; three silent intervals end a connection.
  std::chrono::milliseconds heartbeat{5000};
  /// The most bytes of frames a connection may have queued for its client, unwritten
  /// because the client does not read them: past it the connection is closed (a caller
  /// that sends calls and never reads their results would otherwise grow the server
  /// without end). Reading from the client pauses well before, at a quarter of it (at
  /// most 1 MiB), until the client has taken what it was sent.
  std::size_t max_outbox_bytes = 16 * (4 * 1024 * 1024 + 4096);
  /// The most calls of one connection waiting for their results: a call past it is
  /// refused `limit_reached`. The server sets it to what a cluster can park
  /// (--max-parked-polls-per-cluster): more would ask again and again for room.
  std::size_t max_waiting_calls = 50000;
  /// How long a new connection may take to send its hello (and, with TLS, to finish
  /// the TLS handshake before it).
  std::chrono::milliseconds handshake_timeout{5000};
  /// PEM certificate chain and private key: when set, every connection is TLS (the
  /// server's --tls-cert and --tls-key, shared with the HTTP gateway).
  std::string tls_cert_file;
  std::string tls_key_file;
  /// The connection limits this listener counts against, shared with the HTTP gateway
  /// (one budget of file descriptors, one count per client address). Over the total a
  /// connection is closed at once; over its address's limit it is sent an error frame
  /// `too_many_connections` (closed unanswered with TLS). Null: no limit.
  std::shared_ptr<gateway::connection_limits> limits;
};

class native_server {
public:
  native_server(native_server_options options, gateway::actor_bridge& bridge);
  ~native_server();
  native_server(const native_server&) = delete;
  native_server& operator=(const native_server&) = delete;

  /// Binds and starts its I/O thread; returns the bound port; throws when it cannot bind
  /// or cannot use the TLS certificate.
  std::uint16_t start();
  /// Closes the listener and every connection (their running jobs stall), then joins.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace diffplane::native
