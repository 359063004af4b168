#define CAF_SUITE node_supervisor

#include "actor_fixture.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::actor_fixture {
  node_actor node;

  fixture() {
    store->clusters["c1"] = cluster_record{"c1", "sk_one", "", 1, false, false};
    store->clusters["c2"] = cluster_record{"c2", "sk_two", "", 2, false, false};
    node = spawn_node(sys, node_options{}, [this](caf::actor_system&, const std::string&) {
      return db;
    });
    run();
  }

  ~fixture() {
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    run();
  }

  cluster_actor authenticate(const std::string& secret) {
    auto response = self->request(node, caf::infinite, authenticate_atom::value, secret);
    run();
    cluster_actor result;
    response.receive([&](std::string&, cluster_actor& actor) { result = actor; },
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

CAF_TEST(a cluster that keeps crashing is given up) {
  for (int i = 0; i < 5; ++i) {
    auto actor = authenticate("sk_one");
    CAF_REQUIRE(actor != nullptr);
    caf::anon_send_exit(actor, caf::exit_reason::kill);
    run();
    advance_time(5s);
    run();
  }
  auto actor = authenticate("sk_one");
  CAF_REQUIRE(actor != nullptr);
  caf::anon_send_exit(actor, caf::exit_reason::kill);
  run();
  advance_time(10s);
  run();
  CAF_CHECK(authenticate("sk_one") == nullptr);
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

CAF_TEST(stop commits and ends the node) {
  auto response = self->request(node, caf::infinite, stop_atom::value);
  run();
  bool stopped = false;
  response.receive([&](done_atom) { stopped = true; },
                   [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK(stopped);
}

CAF_TEST_FIXTURE_SCOPE_END()
