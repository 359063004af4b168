#define CAF_SUITE connection_watchdog

#include "persistence/connection_watchdog.hpp"

#include <caf/test/unit_test.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

using namespace diffplane::persistence;
using namespace std::chrono_literals;

namespace {

// A socket pair whose peer never writes: a call reading it blocks the way libpq blocks
// on a frozen Postgres, whose kernel keeps the connection alive.
struct silent_peer {
  int ends[2] = {-1, -1};
  silent_peer() { CAF_REQUIRE_EQUAL(socketpair(AF_UNIX, SOCK_STREAM, 0, ends), 0); }
  ~silent_peer() {
    close(ends[0]);
    close(ends[1]);
  }
  int client() const { return ends[0]; }
};

/// Reads from `socket` on another thread; the future holds recv's result.
std::future<long> blocked_read(int socket) {
  return std::async(std::launch::async, [socket] {
    char byte = 0;
    return static_cast<long>(recv(socket, &byte, 1, 0));
  });
}

} // namespace

CAF_TEST(a call past its limit has its socket shut down) {
  silent_peer peer;
  connection_watchdog dog{25ms, "test"};
  connection_watchdog::watch watched{dog, peer.client(), 100ms};
  auto read = blocked_read(peer.client());
  CAF_REQUIRE(read.wait_for(5s) == std::future_status::ready);
  CAF_CHECK_EQUAL(read.get(), 0); // end of file: libpq reports a lost connection
  CAF_CHECK(dog.fired());
}

CAF_TEST(a call that ends in time is left alone) {
  silent_peer peer;
  connection_watchdog dog{25ms, "test"};
  { connection_watchdog::watch watched{dog, peer.client(), 100ms}; }
  // The watch ended before its limit: nothing may touch the socket afterwards.
  std::this_thread::sleep_for(200ms);
  CAF_CHECK(!dog.fired());
  char byte = 'x';
  CAF_CHECK_EQUAL(send(peer.ends[1], &byte, 1, 0), 1);
  CAF_CHECK_EQUAL(recv(peer.client(), &byte, 1, 0), 1);
}

CAF_TEST(without a tick or a limit nothing is watched) {
  silent_peer peer;
  connection_watchdog off{0ms, "test"};
  connection_watchdog::watch a{off, peer.client(), 10ms};
  connection_watchdog on{25ms, "test"};
  connection_watchdog::watch b{on, peer.client(), 0ms};
  std::this_thread::sleep_for(100ms);
  CAF_CHECK(!off.fired());
  CAF_CHECK(!on.fired());
}
