#include "bench/native/commit_totals.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace diffplane::bench::native {

namespace {

/// The whole answer to `GET /metrics` (the listener closes after it); empty on failure.
std::string fetch_metrics(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    return {};
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_port = htons(static_cast<std::uint16_t>(std::atoi(address.c_str() + colon + 1)));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &peer.sin_addr) != 1)
    return {};
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return {};
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&peer), sizeof peer) == 0) {
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: " + address +
                                "\r\nConnection: close\r\n\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[16384];
      for (ssize_t got; (got = recv(fd, buffer, sizeof buffer, 0)) > 0;)
        answer.append(buffer, static_cast<std::size_t>(got));
    }
  }
  close(fd);
  return answer;
}

} // namespace

std::optional<commit_totals> read_commit_totals(const std::string& address) {
  std::istringstream lines{fetch_metrics(address)};
  commit_totals totals;
  bool sum = false;
  bool count = false;
  for (std::string line; std::getline(lines, line);) {
    auto value = [&] { return std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr); };
    if (line.rfind("diffplane_persistence_commit_seconds_sum", 0) == 0) {
      totals.seconds = value();
      sum = true;
    } else if (line.rfind("diffplane_persistence_commit_seconds_count", 0) == 0) {
      totals.count = value();
      count = true;
    }
  }
  if (!sum || !count)
    return std::nullopt;
  return totals;
}

commit_window between(const commit_totals& before, const commit_totals& after) {
  commit_window window;
  window.count = after.count - before.count;
  if (window.count > 0)
    window.mean_ms = 1000 * (after.seconds - before.seconds) / window.count;
  return window;
}

} // namespace diffplane::bench::native
