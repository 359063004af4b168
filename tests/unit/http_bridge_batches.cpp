#define CAF_SUITE http_bridge_batches

#include "bridge_fixture.hpp"
#include "raw_connection.hpp"

#include "gateway/deferred_wakes.hpp"
#include "gateway/http_server.hpp"

#include <caf/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>

// The HTTP gateway hands the requests it reads in one turn of its event loop to the
// bridge as one batch, as the native listener does with the frames of one read: one
// hand-off to the actor thread per turn, not per request. A real (threaded) actor system
// and a real server on a tiny route table; the bridge has two actors, so requests sent
// one by one reach the cluster from each in turn, and a batch from one of them. The
// answers of one bridge turn ask the HTTP thread for one wake, at the turn's end.
using namespace diffplane;
using namespace std::chrono_literals;
using testing::raw_connection;
using testing::status_of;

namespace {

/// A server whose routes call the bridge: GET /create/:id creates, and GET /block holds
/// the server's thread until the test releases it.
struct fixture : testing::bridge_fixture {
  gateway::router routes;
  std::unique_ptr<gateway::http_server> server;
  std::uint16_t port = 0;
  /// GET /block holds the server's thread until this is set.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> blocking;

  fixture() {
    routes.add(gateway::http_method::get, "/create/:id",
               [this](gateway::http_request& request, gateway::responder respond) {
                 bridge->create_job(cluster, call(request.params.front().second),
                                    [respond](gateway::outcome<std::string> created) {
                                      gateway::http_response answer;
                                      answer.body = created.ok() ? *created.value : "";
                                      respond(std::move(answer));
                                    });
               });
    routes.add(gateway::http_method::get, "/block",
               [this](gateway::http_request&, gateway::responder respond) {
                 blocking.set_value();
                 released.wait();
                 respond(gateway::http_response{});
               });
  }

  void start(unsigned threads) {
    gateway::http_server_options options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = threads;
    options.listener = "unit";
    options.bridge = bridge.get();
    server = std::make_unique<gateway::http_server>(options, routes);
    port = server->start();
  }

  ~fixture() {
    if (server)
      server->stop();
    // Before the server: the bridge's pending answers hold its sessions.
    bridge.reset();
    server.reset();
  }

  static std::string get(const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n";
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(http_bridge_batches_tests, fixture)

CAF_TEST(the requests read in one turn reach the actors as one bridge message) {
  start(1);
  constexpr std::size_t n = 6;
  raw_connection holder{port};
  std::vector<std::unique_ptr<raw_connection>> clients;
  for (std::size_t i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<raw_connection>(port));
    // A request of its own first, so the connection is accepted and read from.
    auto status = clients.back()->get("/create/warm" + std::to_string(i));
    CAF_REQUIRE_EQUAL(status, 200u);
  }
  auto warm = seen_now().size();
  CAF_REQUIRE_EQUAL(warm, n);
  // The server's thread is held while every request arrives: its next turn reads all.
  CAF_REQUIRE(holder.send(get("/block")));
  CAF_REQUIRE(blocking.get_future().wait_for(10s) == std::future_status::ready);
  for (std::size_t i = 0; i < n; ++i)
    CAF_REQUIRE(clients[i]->send(get("/create/c" + std::to_string(i))));
  release.set_value();
  CAF_CHECK_EQUAL(status_of(holder.read_answer()), 200u);
  for (std::size_t i = 0; i < n; ++i) {
    auto answer = clients[i]->read_answer(10s);
    CAF_CHECK_EQUAL(status_of(answer), 200u);
    auto expected = "job-c" + std::to_string(i);
    CAF_CHECK(answer.find(expected) != std::string::npos);
  }
  auto requests = seen_now();
  CAF_REQUIRE_EQUAL(requests.size(), 2 * n);
  // One message to one bridge actor: every request of the turn from the same one.
  for (std::size_t i = n; i < requests.size(); ++i) {
    CAF_CHECK_EQUAL(requests[i].what.substr(0, 8), "create c");
    CAF_CHECK_EQUAL(requests[i].sender, requests[n].sender);
  }
}

CAF_TEST(a lone request goes to the actors at once) {
  start(1);
  raw_connection client{port};
  for (int i = 0; i < 3; ++i) {
    auto sent = std::chrono::steady_clock::now();
    auto status = client.get("/create/solo" + std::to_string(i));
    auto took = std::chrono::steady_clock::now() - sent;
    CAF_CHECK_EQUAL(status, 200u);
    // Nothing waits for more requests nor for a timer.
    CAF_CHECK(took < 1s);
  }
  auto requests = seen_now();
  CAF_CHECK_EQUAL(requests.size(), 3u);
}

CAF_TEST(with several threads each request is a message of its own) {
  start(2);
  raw_connection a{port};
  raw_connection b{port};
  auto first = a.get("/create/a");
  auto second = b.get("/create/b");
  CAF_CHECK_EQUAL(first, 200u);
  CAF_CHECK_EQUAL(second, 200u);
  auto requests = seen_now();
  CAF_CHECK_EQUAL(requests.size(), 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

/// One actor thread: a batch's requests are all answered in one turn of the cluster,
/// and their answers in one turn of the bridge actor.
struct one_thread_fixture : testing::bridge_fixture {
  std::vector<std::string> events;

  one_thread_fixture() : bridge_fixture(1) {}

  void note(std::string event) {
    std::lock_guard lock{mutex};
    events.push_back(std::move(event));
  }

  std::vector<std::string> events_now() {
    std::lock_guard lock{mutex};
    return events;
  }

  /// Creates `ids` in one batch; each answer asks for a wake, as an HTTP answer does.
  void create_all(const std::vector<std::string>& ids, std::promise<void>& all_woken) {
    auto left = std::make_shared<std::atomic<std::size_t>>(ids.size());
    gateway::bridge_batch batch{*bridge};
    for (const auto& id : ids) {
      bridge->create_job(cluster, call(id),
                         [this, left, &all_woken](gateway::outcome<std::string> created) {
                           auto id = created.ok() ? *created.value : "error";
                           note("answer " + id);
                           gateway::deferred_wakes::wake([this, left, id, &all_woken] {
                             note("wake " + id);
                             if (--*left == 0)
                               all_woken.set_value();
                           });
                         });
    }
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(http_answer_wakes_tests, one_thread_fixture)

CAF_TEST(the answers of one bridge turn wake the HTTP thread after the last of them) {
  std::promise<void> woken;
  create_all({"a", "b", "c", "d"}, woken);
  CAF_REQUIRE(woken.get_future().wait_for(10s) == std::future_status::ready);
  auto happened = events_now();
  std::vector<std::string> expected{"answer job-a", "answer job-b", "answer job-c",
                                    "answer job-d", "wake job-a",   "wake job-b",
                                    "wake job-c",   "wake job-d"};
  CAF_CHECK_EQUAL(happened, expected);
}

CAF_TEST(a lone answer wakes the HTTP thread at once) {
  std::promise<void> woken;
  create_all({"solo"}, woken);
  CAF_REQUIRE(woken.get_future().wait_for(10s) == std::future_status::ready);
  auto happened = events_now();
  std::vector<std::string> expected{"answer job-solo", "wake job-solo"};
  CAF_CHECK_EQUAL(happened, expected);
}

CAF_TEST(a wake asked for outside a bridge turn is made at once) {
  bool made = false;
  gateway::deferred_wakes::wake([&made] { made = true; });
  CAF_CHECK(made);
}

CAF_TEST_FIXTURE_SCOPE_END()
