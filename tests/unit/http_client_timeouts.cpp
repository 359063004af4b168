#define CAF_SUITE http_client_timeouts

#include "cli/http_client.hpp"

#include <caf/test/unit_test.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>

using namespace std::chrono_literals;

namespace {

/// A port of 127.0.0.1 that takes connections (the kernel completes them from the
/// backlog) and never answers; closing it resets the connections it holds.
struct silent_server {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  std::string endpoint;

  silent_server() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(fd, 16);
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    endpoint = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  }
  ~silent_server() { close_now(); }
  void close_now() {
    if (fd >= 0)
      close(fd);
    fd = -1;
  }
};

} // namespace

CAF_TEST(a request to a server that never answers ends at the client timeout) {
  silent_server server;
  auto started = std::chrono::steady_clock::now();
  auto outcome = std::async(std::launch::async, [&] {
    try {
      diffplane::cli::http_client{server.endpoint, 300ms}.request("GET", "/live");
      return std::string{"an answer"};
    } catch (const std::exception& e) {
      return std::string{e.what()};
    }
  });
  auto in_time = outcome.wait_for(5s) == std::future_status::ready;
  // Without a timeout the request would wait forever: closing the port ends it.
  server.close_now();
  auto message = outcome.get();
  CAF_CHECK(in_time);
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - started, 6s);
  CAF_CHECK(message.find("no answer from " + server.endpoint) != std::string::npos);
  CAF_MESSAGE(message);
}
