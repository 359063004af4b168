#define CAF_SUITE http_bridge_batches

#include "actor_fixture.hpp"
#include "raw_connection.hpp"

#include "gateway/deferred_wakes.hpp"
#include "gateway/http_server.hpp"
#include "gateway/make_actor_bridge.hpp"

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

/// What the fake cluster actor saw: each request and the actor that sent it.
struct seen_request {
  std::string what;
  caf::actor_id sender = 0;
};

struct fixture {
  testing::test_config config;
  std::unique_ptr<caf::actor_system> sys;
  std::mutex mutex;
  std::vector<seen_request> seen;
  caf::actor fake;
  std::unique_ptr<gateway::actor_bridge> bridge;
  gateway::cluster_ref cluster;
  gateway::router routes;
  std::unique_ptr<gateway::http_server> server;
  std::uint16_t port = 0;
  /// GET /block holds the server's thread until this is set.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> blocking;

  fixture() {
    config.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(config);
    fake = sys->spawn([this](caf::event_based_actor* self) -> caf::behavior {
      return {
          [this, self](create_job_request& request) -> std::string {
            std::lock_guard lock{mutex};
            seen.push_back({request.execution_id, self->current_sender()->id()});
            return request.execution_id;
          },
      };
    });
    bridge = gateway::make_actor_bridge(*sys, caf::actor_cast<node_actor>(fake), 2);
    cluster.actor =
        std::make_shared<const cluster_actor>(caf::actor_cast<cluster_actor>(fake));
    routes.add(gateway::http_method::get, "/create/:id",
               [this](gateway::http_request& request, gateway::responder respond) {
                 create_job_request call;
                 call.service = "svc";
                 call.target_fn = "f";
                 call.execution_id = request.params.front().second;
                 call.durable = false;
                 bridge->create_job(cluster, std::move(call),
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
    caf::anon_send_exit(fake, caf::exit_reason::user_shutdown);
  }

  std::vector<seen_request> seen_now() {
    std::lock_guard lock{mutex};
    return seen;
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
    auto expected = "c" + std::to_string(i);
    CAF_CHECK(answer.find(expected) != std::string::npos);
  }
  auto requests = seen_now();
  CAF_REQUIRE_EQUAL(requests.size(), 2 * n);
  // One message to one bridge actor: every request of the turn from the same one.
  for (std::size_t i = n; i < requests.size(); ++i) {
    CAF_CHECK_EQUAL(requests[i].what.substr(0, 1), "c");
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
struct one_thread_fixture {
  testing::test_config config;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor fake;
  std::unique_ptr<gateway::actor_bridge> bridge;
  gateway::cluster_ref cluster;
  std::mutex mutex;
  std::vector<std::string> events;

  one_thread_fixture() {
    config.set("scheduler.max-threads", 1);
    sys = std::make_unique<caf::actor_system>(config);
    fake = sys->spawn([](caf::event_based_actor*) -> caf::behavior {
      return {
          [](create_job_request& request) -> std::string { return request.execution_id; },
      };
    });
    bridge = gateway::make_actor_bridge(*sys, caf::actor_cast<node_actor>(fake), 2);
    cluster.actor =
        std::make_shared<const cluster_actor>(caf::actor_cast<cluster_actor>(fake));
  }

  ~one_thread_fixture() {
    bridge.reset();
    caf::anon_send_exit(fake, caf::exit_reason::user_shutdown);
  }

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
      create_job_request call;
      call.service = "svc";
      call.target_fn = "f";
      call.execution_id = id;
      call.durable = false;
      bridge->create_job(cluster, std::move(call),
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
  auto seen = events_now();
  std::vector<std::string> expected{"answer a", "answer b", "answer c", "answer d",
                                    "wake a",   "wake b",   "wake c",   "wake d"};
  CAF_CHECK_EQUAL(seen, expected);
}

CAF_TEST(a lone answer wakes the HTTP thread at once) {
  std::promise<void> woken;
  create_all({"solo"}, woken);
  CAF_REQUIRE(woken.get_future().wait_for(10s) == std::future_status::ready);
  auto seen = events_now();
  std::vector<std::string> expected{"answer solo", "wake solo"};
  CAF_CHECK_EQUAL(seen, expected);
}

CAF_TEST(a wake asked for outside a bridge turn is made at once) {
  bool made = false;
  gateway::deferred_wakes::wake([&made] { made = true; });
  CAF_CHECK(made);
}

CAF_TEST_FIXTURE_SCOPE_END()
