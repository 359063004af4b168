#include "bench/native/relay.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

namespace diffplane::bench::native {

namespace {

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string{"relay: "} + what + ": " + std::strerror(errno));
}

void no_delay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/// A loopback listener on a port the kernel picks; returns the fd and sets `port`.
int listen_any(std::uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    fail("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(fd, 4) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    fail("listen");
  port = ntohs(address.sin_port);
  return fd;
}

int dial(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    fail("connect");
  no_delay(fd);
  return fd;
}

int accept_one(int listener) {
  int fd = ::accept(listener, nullptr, nullptr);
  if (fd < 0)
    fail("accept");
  no_delay(fd);
  ::close(listener);
  return fd;
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    auto n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

/// Forwards bytes from `from` to `to` until `from` ends, then ends `to`'s sending side.
void forward(int from, int to) {
  char chunk[64 * 1024];
  for (;;) {
    auto n = ::recv(from, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0 || !write_all(to, chunk, static_cast<std::size_t>(n)))
      break;
  }
  ::shutdown(to, SHUT_WR);
}

/// Echoes every whole frame it reads (4-byte big-endian length, then the body), the
/// frames of one read in one write, until the connection ends.
void echo(int fd) {
  std::string buffer;
  char chunk[64 * 1024];
  for (;;) {
    auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t whole = 0;
    while (buffer.size() - whole >= 4) {
      auto* p = reinterpret_cast<const unsigned char*>(buffer.data() + whole);
      std::size_t length = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                           (std::size_t{p[2]} << 8) | p[3];
      if (buffer.size() - whole < 4 + length)
        break;
      whole += 4 + length;
    }
    if (whole > 0 && !write_all(fd, buffer.data(), whole))
      break;
    buffer.erase(0, whole);
  }
  ::shutdown(fd, SHUT_WR);
}

std::string frame_of(std::size_t payload_bytes) {
  auto length = static_cast<std::uint32_t>(payload_bytes);
  std::string frame(4, '\0');
  frame[0] = static_cast<char>(length >> 24);
  frame[1] = static_cast<char>(length >> 16);
  frame[2] = static_cast<char>(length >> 8);
  frame[3] = static_cast<char>(length);
  frame.append(payload_bytes, 'x');
  return frame;
}

/// Reads until `count` whole frames of `frame_size` bytes came back.
void read_frames(int fd, std::size_t frame_size, std::size_t count) {
  std::string buffer(frame_size * count, '\0');
  std::size_t got = 0;
  while (got < buffer.size()) {
    auto n = ::recv(fd, buffer.data() + got, buffer.size() - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      fail("read");
    got += static_cast<std::size_t>(n);
  }
}

/// Keeps `in_flight` frames outstanding for `duration`; returns the frames answered.
std::size_t pipeline(int fd, const std::string& frame, std::size_t in_flight,
                     std::chrono::milliseconds duration) {
  std::string burst;
  for (std::size_t i = 0; i < in_flight; ++i)
    burst += frame;
  if (!write_all(fd, burst.data(), burst.size()))
    fail("write");
  auto end = clock_type::now() + duration;
  std::size_t answered = 0;
  std::size_t outstanding = in_flight;
  std::size_t partial = 0;
  char chunk[64 * 1024];
  while (outstanding > 0) {
    auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      fail("read");
    partial += static_cast<std::size_t>(n);
    auto whole = partial / frame.size();
    partial %= frame.size();
    outstanding -= whole;
    if (clock_type::now() >= end)
      continue; // drain what is in flight, send nothing more
    answered += whole;
    std::string next;
    for (std::size_t i = 0; i < whole; ++i)
      next += frame;
    if (!write_all(fd, next.data(), next.size()))
      fail("write");
    outstanding += whole;
  }
  return answered;
}

} // namespace

figures measure_relay(const run_plan& plan) {
  std::uint16_t worker_port = 0;
  std::uint16_t relay_port = 0;
  int worker_listener = listen_any(worker_port);
  int relay_listener = listen_any(relay_port);
  std::thread worker{[worker_listener] {
    int fd = accept_one(worker_listener);
    echo(fd);
    ::close(fd);
  }};
  std::thread relay_up;
  std::thread relay_down;
  int caller = dial(relay_port);
  int from_caller = accept_one(relay_listener);
  int to_worker = dial(worker_port);
  relay_up = std::thread{[=] { forward(from_caller, to_worker); }};
  relay_down = std::thread{[=] { forward(to_worker, from_caller); }};

  figures out;
  out.name = "relay (raw TCP)";
  out.in_flight = plan.in_flight;
  auto frame = frame_of(plan.payload_bytes);
  for (std::size_t i = 0; i < plan.warmup + plan.calls; ++i) {
    auto start = clock_type::now();
    if (!write_all(caller, frame.data(), frame.size()))
      fail("write");
    read_frames(caller, frame.size(), 1);
    if (i >= plan.warmup)
      out.sequential.add(clock_type::now() - start);
  }
  auto answered = pipeline(caller, frame, plan.in_flight, plan.duration);
  out.calls_per_second = static_cast<double>(answered) /
                         std::chrono::duration<double>(plan.duration).count();

  ::shutdown(caller, SHUT_WR);
  relay_up.join();
  worker.join();
  relay_down.join();
  for (int fd : {caller, from_caller, to_worker})
    ::close(fd);
  return out;
}

} // namespace diffplane::bench::native
