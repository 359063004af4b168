#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace diffplane::testing {

/// A plain TCP connection to 127.0.0.1:`port` from a chosen loopback source address
/// (all of 127/8 is loopback on Linux), for tests of what the gateway does with
/// connections rather than requests. Closed by the destructor.
class raw_connection {
public:
  /// Connects from `source` (an IPv4 address, port chosen by the kernel); throws on
  /// failure. `receive_buffer` > 0 shrinks SO_RCVBUF before connecting.
  raw_connection(std::uint16_t port, const std::string& source = "127.0.0.1",
                 int receive_buffer = 0);
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  /// Writes all of `bytes`; false when the connection is broken.
  bool send(const std::string& bytes);
  /// Reads one HTTP answer (head and Content-Length body); empty when the connection
  /// ended or nothing complete came within `wait`.
  std::string read_answer(std::chrono::milliseconds wait = std::chrono::seconds{5});
  /// Sends a GET with keep-alive and returns its answer's status (0: none).
  unsigned get(const std::string& target);
  /// Milliseconds until the server ended the connection (read returned 0 or an error),
  /// discarding what it sent; -1 when still open after `wait`.
  long long ended_within(std::chrono::milliseconds wait);
  /// Everything received until the server ended the connection or `wait` passed.
  std::string read_to_end(std::chrono::milliseconds wait = std::chrono::seconds{5});

private:
  int fd_ = -1;
  std::string pending_;
};

/// The status code of an HTTP answer's status line (0 when there is none).
unsigned status_of(const std::string& answer);

} // namespace diffplane::testing
