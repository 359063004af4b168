#define CAF_SUITE http_server_connections

#include "gateway/connection_limits.hpp"
#include "gateway/http_server.hpp"
#include "metrics/catalog.hpp"
#include "raw_connection.hpp"

#include <caf/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

using namespace diffplane::gateway;
using diffplane::testing::raw_connection;
using diffplane::testing::status_of;
using namespace std::chrono_literals;

// The gateway's HTTP server in this process, on a tiny route table, seen from raw
// sockets: what one client address may hold, and how slow clients are cut.

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A 200 answer with `body`.
http_response answer(std::string body = "{}") {
  http_response response;
  response.body = std::move(body);
  return response;
}

/// Whether `fd` is an open descriptor of this process.
bool fcntl_open(int fd) {
  return fcntl(fd, F_GETFD) != -1;
}

/// Polls `condition` every 10 ms for up to `wait`.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds wait = 5s) {
  auto until = std::chrono::steady_clock::now() + wait;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

/// GET /ok answers at once; GET /big answers 64 MiB; GET /park is answered only when
/// the test releases it.
struct server_fixture {
  router routes;
  std::mutex mutex;
  std::vector<responder> parked;
  std::atomic<int> parks{0};
  std::unique_ptr<http_server> server;
  std::uint16_t port = 0;

  void start(http_server_options options, std::string listener = "unit") {
    routes.add(http_method::get, "/ok",
               [](http_request&, responder respond) { respond(answer()); });
    routes.add(http_method::get, "/big", [](http_request&, responder respond) {
      respond(answer(std::string(64 * 1024 * 1024, 'x')));
    });
    routes.add(http_method::get, "/park", [this](http_request&, responder respond) {
      std::lock_guard lock{mutex};
      parked.push_back(std::move(respond));
      ++parks;
    });
    options.host = "127.0.0.1";
    options.port = 0;
    options.listener = std::move(listener);
    server = std::make_unique<http_server>(options, routes);
    port = server->start();
  }

  void release_parked() {
    std::vector<responder> all;
    {
      std::lock_guard lock{mutex};
      all.swap(parked);
    }
    for (auto& respond : all)
      respond(answer());
  }

  ~server_fixture() {
    release_parked();
    if (server)
      server->stop();
  }
};

http_server_options with_limits(std::size_t total, std::size_t per_address) {
  http_server_options options;
  options.max_connections = total;
  options.max_connections_per_address = per_address;
  return options;
}

} // namespace

CAF_TEST(connection limits count per address and forget addresses that left) {
  connection_limits limits{3, 2};
  connection_slot a1, a2, a3, b1, c1;
  CAF_CHECK(limits.admit("10.0.0.1", a1) == connection_limits::verdict::admitted);
  CAF_CHECK(limits.admit("10.0.0.1", a2) == connection_limits::verdict::admitted);
  // Over the address's limit: a place in the total only, while the refusal is written.
  CAF_CHECK(limits.admit("10.0.0.1", a3) == connection_limits::verdict::over_address);
  CAF_CHECK(static_cast<bool>(a3));
  CAF_CHECK_EQUAL(limits.open(), 3u);
  CAF_CHECK_EQUAL(limits.open_from("10.0.0.1"), 2u);
  CAF_CHECK(limits.admit("::1", b1) == connection_limits::verdict::over_total);
  CAF_CHECK(!b1);
  a3 = connection_slot{};
  CAF_CHECK(limits.admit("::1", b1) == connection_limits::verdict::admitted);
  CAF_CHECK_EQUAL(limits.addresses(), 2u);
  // Moving a slot moves its place; only the last owner gives it back.
  auto moved = std::move(a1);
  CAF_CHECK_EQUAL(limits.open_from("10.0.0.1"), 2u);
  { auto gone = std::move(moved); }
  CAF_CHECK_EQUAL(limits.open_from("10.0.0.1"), 1u);
  a2 = connection_slot{};
  b1 = connection_slot{};
  CAF_CHECK_EQUAL(limits.open(), 0u);
  CAF_CHECK_EQUAL(limits.addresses(), 0u);
  connection_limits unlimited{0, 0};
  std::vector<connection_slot> many(1000);
  for (auto& slot : many)
    CAF_CHECK(unlimited.admit("10.0.0.9", slot) == connection_limits::verdict::admitted);
  CAF_CHECK_EQUAL(unlimited.open_from("10.0.0.9"), 1000u);
}

CAF_TEST(a connection over its address limit gets 429 and another address is served) {
  server_fixture f;
  f.start(with_limits(0, 2));
  std::optional<raw_connection> first{std::in_place, f.port};
  raw_connection second{f.port};
  CAF_REQUIRE_EQUAL(first->get("/ok"), 200u);
  CAF_REQUIRE_EQUAL(second.get("/ok"), 200u);
  raw_connection third{f.port};
  auto refusal = third.read_to_end(3s);
  CAF_CHECK_EQUAL(status_of(refusal), 429u);
  CAF_CHECK(contains(refusal, "Connection: close"));
  CAF_CHECK(contains(refusal, R"("error":"too_many_requests")"));
  CAF_CHECK(contains(refusal, "too many connections from this address"));
  raw_connection other{f.port, "127.0.0.2"};
  CAF_CHECK_EQUAL(other.get("/ok"), 200u);
  // The refused connection held a place only while its answer was written.
  CAF_CHECK(eventually([&] { return f.server->open_connections() == 3; }));
  first.reset();
  CAF_CHECK(eventually([&] { return f.server->open_connections() == 2; }));
  raw_connection fourth{f.port};
  CAF_CHECK_EQUAL(fourth.get("/ok"), 200u);
  CAF_CHECK_EQUAL(second.get("/ok"), 200u);
}

CAF_TEST(a connection over the process limit is closed without an answer) {
  server_fixture f;
  f.start(with_limits(2, 0));
  std::optional<raw_connection> first{std::in_place, f.port};
  raw_connection second{f.port, "127.0.0.2"};
  CAF_REQUIRE_EQUAL(first->get("/ok"), 200u);
  CAF_REQUIRE_EQUAL(second.get("/ok"), 200u);
  raw_connection third{f.port, "127.0.0.3"};
  CAF_CHECK(third.read_to_end(3s).empty());
  first.reset();
  CAF_CHECK(eventually([&] { return f.server->open_connections() == 1; }));
  raw_connection fourth{f.port, "127.0.0.3"};
  CAF_CHECK_EQUAL(fourth.get("/ok"), 200u);
}

CAF_TEST(a client dripping its request is cut at the idle timeout) {
  server_fixture f;
  auto options = with_limits(0, 0);
  options.idle_timeout = 1s;
  f.start(options);
  raw_connection dripping{f.port};
  // A byte every 100 ms, far below the header limit: each byte arrives well within the
  // timeout, and still the whole request must arrive within it.
  std::string request = "GET /ok HTTP/1.1\r\nHost: test\r\nX-Slow: ";
  request += std::string(200, 'a');
  auto start = std::chrono::steady_clock::now();
  bool open = true;
  for (std::size_t i = 0; open && i < request.size(); ++i) {
    open = dripping.send(request.substr(i, 1)) && dripping.ended_within(100ms) < 0;
    if (std::chrono::steady_clock::now() - start > 5s)
      break;
  }
  auto cut_after = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  CAF_MESSAGE("dripping client cut after " << cut_after << " ms");
  CAF_CHECK(!open);
  CAF_CHECK_GREATER_OR_EQUAL(cut_after, 900);
  CAF_CHECK_LESS(cut_after, 2000);
  CAF_CHECK(eventually([&] { return f.server->open_connections() == 0; }));
}

CAF_TEST(a client that never reads its answer is cut at the write deadline) {
  server_fixture f;
  auto options = with_limits(0, 0);
  options.idle_timeout = 1s;
  f.start(options);
  // A small receive window and 64 MiB to send: the write cannot finish.
  raw_connection stalled{f.port, "127.0.0.1", 4096};
  CAF_REQUIRE(stalled.send("GET /big HTTP/1.1\r\nHost: test\r\n\r\n"));
  CAF_REQUIRE(eventually([&] { return f.server->in_flight() == 1; }));
  auto start = std::chrono::steady_clock::now();
  // Without the deadline the connection would stay open for good. A loaded machine
  // adds seconds to writing 64 MiB into the socket (3.5 s seen beside four builds), so
  // the bound is the deadline plus generous room, not a tight one.
  CAF_CHECK(eventually([&] { return f.server->open_connections() == 0; }, 10s));
  auto cut_after = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  CAF_MESSAGE("non-reading client cut after " << cut_after << " ms");
  CAF_CHECK_EQUAL(f.server->in_flight(), 0u);
  CAF_CHECK_LESS(cut_after, 8000);
}

CAF_TEST(a connection holds at most one parked request) {
  server_fixture f;
  f.start(with_limits(0, 0));
  raw_connection pipelining{f.port};
  // Two requests at once: the second is read only after the first is answered.
  CAF_REQUIRE(pipelining.send("GET /park HTTP/1.1\r\nHost: test\r\n\r\n"
                              "GET /park HTTP/1.1\r\nHost: test\r\n\r\n"));
  CAF_REQUIRE(eventually([&] { return f.parks.load() == 1; }));
  std::this_thread::sleep_for(300ms);
  CAF_CHECK_EQUAL(f.parks.load(), 1);
  CAF_CHECK_EQUAL(f.server->in_flight(), 1u);
  f.release_parked();
  CAF_CHECK_EQUAL(status_of(pipelining.read_answer()), 200u);
  CAF_CHECK(eventually([&] { return f.parks.load() == 2; }));
  f.release_parked();
  CAF_CHECK_EQUAL(status_of(pipelining.read_answer()), 200u);
}

CAF_TEST(accepts that fail for want of descriptors pause instead of spinning) {
  server_fixture f;
  f.start(with_limits(0, 0), "unit-emfile");
  auto& failures =
      diffplane::metrics::make_connection_metrics("unit-emfile").accept_failures;
  // Sockets made now, connected once no descriptor is left: the kernel completes their
  // handshakes, and every accept() of the server fails with EMFILE.
  std::vector<int> clients;
  for (int i = 0; i < 4; ++i)
    clients.push_back(socket(AF_INET, SOCK_STREAM, 0));
  rlimit before{};
  CAF_REQUIRE_EQUAL(getrlimit(RLIMIT_NOFILE, &before), 0);
  int highest = 0;
  for (int fd = 0; fd < 4096; ++fd)
    if (fcntl_open(fd))
      highest = fd;
  rlimit tight = before;
  tight.rlim_cur = static_cast<rlim_t>(highest + 1);
  CAF_REQUIRE_EQUAL(setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::vector<int> fillers; // the holes below the limit, so that none is free
  for (int fd; (fd = dup(clients[0])) >= 0;)
    fillers.push_back(fd);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(f.port);
  inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
  for (int fd : clients)
    connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server);
  auto failed_before = failures.value();
  std::this_thread::sleep_for(1s);
  auto failed = failures.value() - failed_before;
  for (int fd : fillers)
    close(fd);
  CAF_REQUIRE_EQUAL(setrlimit(RLIMIT_NOFILE, &before), 0);
  CAF_MESSAGE(failed << " failed accepts in 1 s without descriptors");
  // A pause of 100 ms: about 10; a loop without one: many thousands.
  CAF_CHECK_GREATER_OR_EQUAL(failed, 3u);
  CAF_CHECK_LESS_OR_EQUAL(failed, 20u);
  // With descriptors back, the waiting connections are accepted and served.
  CAF_CHECK(eventually([&] { return f.server->open_connections() == clients.size(); }));
  for (int fd : clients)
    close(fd);
  raw_connection after{f.port};
  CAF_CHECK_EQUAL(after.get("/ok"), 200u);
}
