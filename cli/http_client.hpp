#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace diffplane::cli {

struct http_reply {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// A blocking HTTP/1.1 client for the command line and the tests: one connection, one
/// request, plain or TLS. Throws std::runtime_error with a one-line message when it
/// cannot connect (or the server's certificate is not trusted).
class http_client {
public:
  /// `endpoint` is "http://host:port" or "https://host:port" (a trailing slash is fine).
  /// An https server's certificate must be signed by one in the PEM file `ca_file`, or,
  /// when it is empty, by one the system trusts, and name the endpoint's host.
  explicit http_client(std::string endpoint,
                       std::chrono::milliseconds timeout = std::chrono::seconds{30},
                       std::string ca_file = {});

  http_reply
  request(const std::string& method, const std::string& target,
          const std::string& body = {},
          const std::vector<std::pair<std::string, std::string>>& headers = {});

  const std::string& endpoint() const { return endpoint_; }

private:
  std::string endpoint_;
  std::string ca_file_;
  bool tls_ = false;
  std::string host_;
  std::string port_;
  std::chrono::milliseconds timeout_;
};

} // namespace diffplane::cli
