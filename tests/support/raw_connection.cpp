#include "raw_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace diffplane::testing {

namespace {

sockaddr_in loopback(const std::string& address, std::uint16_t port) {
  sockaddr_in result{};
  result.sin_family = AF_INET;
  result.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &result.sin_addr) != 1)
    throw std::runtime_error("not an IPv4 address: " + address);
  return result;
}

long long since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

raw_connection::raw_connection(std::uint16_t port, const std::string& source,
                               int receive_buffer) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0)
    throw std::runtime_error("socket() failed");
  if (receive_buffer > 0)
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  auto from = loopback(source, 0);
  auto to = loopback("127.0.0.1", port);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    close(fd_);
    throw std::runtime_error("cannot connect from " + source);
  }
}

raw_connection::~raw_connection() {
  if (fd_ >= 0)
    close(fd_);
}

bool raw_connection::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string raw_connection::read_answer(std::chrono::milliseconds wait) {
  auto start = std::chrono::steady_clock::now();
  char buffer[4096];
  while (true) {
    auto end = pending_.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::size_t length = 0;
      auto at = pending_.find("Content-Length: ");
      if (at != std::string::npos && at < end)
        length = std::stoul(pending_.substr(at + 16));
      if (pending_.size() >= end + 4 + length) {
        auto answer = pending_.substr(0, end + 4 + length);
        pending_.erase(0, end + 4 + length);
        return answer;
      }
    }
    auto left = wait.count() - since(start);
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0)
      return {};
    auto n = read(fd_, buffer, sizeof buffer);
    if (n <= 0)
      return {};
    pending_.append(buffer, static_cast<std::size_t>(n));
  }
}

unsigned raw_connection::get(const std::string& target) {
  if (!send("GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n"))
    return 0;
  return status_of(read_answer());
}

long long raw_connection::ended_within(std::chrono::milliseconds wait) {
  auto start = std::chrono::steady_clock::now();
  char buffer[4096];
  while (since(start) < wait.count()) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 50) > 0 && read(fd_, buffer, sizeof buffer) <= 0)
      return since(start);
  }
  return -1;
}

std::string raw_connection::read_to_end(std::chrono::milliseconds wait) {
  auto start = std::chrono::steady_clock::now();
  std::string out = std::move(pending_);
  pending_.clear();
  char buffer[4096];
  while (since(start) < wait.count()) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0)
      continue;
    auto n = read(fd_, buffer, sizeof buffer);
    if (n <= 0)
      break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

unsigned status_of(const std::string& answer) {
  if (answer.rfind("HTTP/1.", 0) != 0 || answer.size() < 12)
    return 0;
  return static_cast<unsigned>(std::stoul(answer.substr(9, 3)));
}

} // namespace diffplane::testing
