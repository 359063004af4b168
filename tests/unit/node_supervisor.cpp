#define CAF_SUITE node_supervisor

#include "actor_fixture.hpp"

#include "actors/secrets.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::actor_fixture {
  node_actor node;

  fixture() {
    store->clusters["c1"] = cluster_record{"c1", "sk_one", "", 1, false, false};
    store->clusters["c2"] = cluster_record{"c2", "sk_two", "", 2, false, false};
    node = spawn_node(sys, node_options{},
                      [this](caf::actor_system&, const std::string&) { return db; });
    run();
  }

  ~fixture() {
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    run();
  }

  cluster_actor authenticate(const std::string& secret) {
    auto response = self->request(node, caf::infinite, authenticate_atom::value,
                                  secrets::sha256(secret));
    run();
    cluster_actor result;
    response.receive(
        [&](std::string&, cluster_actor& actor) { result = actor; },
        [&](caf::error& err) { CAF_MESSAGE("authenticate: " << sys.render(err)); });
    return result;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(node_supervisor_tests, fixture)

CAF_TEST(the node loads every cluster and resolves their secrets) {
  auto ready = self->request(node, caf::infinite, await_ready_atom::value);
  run();
  ready.receive([](done_atom) {}, [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK(authenticate("sk_one") != nullptr);
  CAF_CHECK(authenticate("sk_two") != nullptr);
  CAF_CHECK(authenticate("sk_unknown") == nullptr);
}

CAF_TEST(a crashed cluster is restarted from the database) {
  auto before = authenticate("sk_one");
  CAF_REQUIRE(before != nullptr);
  caf::anon_send_exit(before, caf::exit_reason::kill);
  run();
  // While it waits for its restart the cluster is unavailable, not unknown.
  CAF_CHECK(authenticate("sk_one") == nullptr);
  advance_time(1s);
  run();
  auto after = authenticate("sk_one");
  CAF_REQUIRE(after != nullptr);
  CAF_CHECK_NOT_EQUAL(before.address(), after.address());
  // The other cluster was not touched.
  CAF_CHECK(authenticate("sk_two") != nullptr);
}

CAF_TEST(a cluster that keeps crashing is restarted ever more slowly) {
  std::vector<std::chrono::milliseconds> waits;
  for (int i = 0; i < 8; ++i) {
    auto actor = authenticate("sk_one");
    CAF_REQUIRE(actor != nullptr);
    caf::anon_send_exit(actor, caf::exit_reason::kill);
    run();
    auto waited = std::chrono::milliseconds{0};
    while (authenticate("sk_one") == nullptr) {
      advance_time(100ms);
      waited += 100ms;
      CAF_REQUIRE(waited <= 31s);
    }
    waits.push_back(waited);
  }
  for (std::size_t i = 1; i < waits.size(); ++i)
    CAF_CHECK_GREATER_OR_EQUAL(waits[i], waits[i - 1]);
  CAF_CHECK_EQUAL(waits.front(), 200ms);
  CAF_CHECK_EQUAL(waits.back(), 25600ms);
}

CAF_TEST(a created cluster is answered once it is ready) {
  auto response = self->request(node, caf::infinite, create_cluster_atom::value,
                                std::string{"made in a test"});
  run();
  cluster_record created;
  response.receive([&](cluster_record& c) { created = c; },
                   [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK_EQUAL(created.description, "made in a test");
  CAF_CHECK_EQUAL(created.api_secret.rfind("sk_", 0), 0u);
  CAF_CHECK_EQUAL(store->clusters.count(created.id), 1u);
  CAF_CHECK(authenticate(created.api_secret) != nullptr);
}

CAF_TEST(old activity is pruned a minute after start and then hourly) {
  store->events.push_back(event_record{"c1", "jobStalled", "j", "m", "", "svc", "{}", 1});
  advance_time(59s);
  CAF_CHECK_EQUAL(store->events.size(), 1u);
  advance_time(1s);
  CAF_CHECK(store->events.empty());
  store->events.push_back(event_record{"c1", "jobStalled", "j", "m", "", "svc", "{}", 1});
  advance_time(std::chrono::minutes{59});
  CAF_CHECK_EQUAL(store->events.size(), 1u);
  advance_time(std::chrono::minutes{1});
  CAF_CHECK(store->events.empty());
}

CAF_TEST(stop commits and ends the node) {
  auto response = self->request(node, caf::infinite, stop_atom::value);
  run();
  bool stopped = false;
  response.receive([&](done_atom) { stopped = true; },
                   [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK(stopped);
}

CAF_TEST_FIXTURE_SCOPE_END()
