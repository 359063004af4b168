#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;

// The client's byte stream to a server: TCP, or TLS over it (a "tls://" endpoint).
// One thread reads while others write: with TLS they take turns on the one OpenSSL
// session, which must never be used by two threads at once.
namespace diffplane::client {

struct tls_settings {
  bool enabled = false;
  /// PEM file of the certificates to trust; empty: the system's trust store.
  std::string ca_file;
};

class transport {
public:
  /// Connects to host:port and, with TLS, completes the handshake (checking the
  /// server's certificate against the trusted ones and `host`) before `deadline`, or
  /// gives up within 100 ms of `stopping`. nullptr when it cannot; `error` then says
  /// why, and `tls_refused` whether the server was reached but its TLS session refused
  /// (a retry would fail the same way).
  static std::unique_ptr<transport> dial(const std::string& host, const std::string& port,
                                         const tls_settings& tls,
                                         std::chrono::steady_clock::time_point deadline,
                                         const std::atomic<bool>& stopping,
                                         std::string& error, bool& tls_refused);
  ~transport();
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  /// Writes all of `data`; false when the connection is broken, or when not a byte of
  /// it could be written for `stall_limit` (a peer that stopped reading: its socket
  /// stays full however long one waits). One writer at a time.
  bool write_all(const std::string& data, std::chrono::milliseconds stall_limit);
  /// Waits up to `timeout` for bytes: their count, 0 when none came yet, -1 when the
  /// connection is closed or broken. Only one thread reads.
  long read_some(char* into, std::size_t size, std::chrono::milliseconds timeout);
  /// Breaks the connection from any thread: a read or write under way returns.
  void shutdown();

private:
  transport(int fd, SSL_CTX* context, SSL* ssl);
  /// Waits until the socket has `events` or `timeout_ms` passed; false on timeout.
  bool wait_for(short events, int timeout_ms) const;

  int fd_;
  SSL_CTX* context_;
  SSL* ssl_;
  /// Held around every call into ssl_.
  std::mutex ssl_mutex_;
};

} // namespace diffplane::client
