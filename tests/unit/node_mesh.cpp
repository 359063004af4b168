#define CAF_SUITE node_mesh

#include "memory_leases.hpp"
#include "memory_persistence.hpp"

#include "actors/mesh.hpp"
#include "actors/message_types.hpp"
#include "actors/secrets.hpp"
#include "persistence/errors.hpp"

#include <caf/test/io_dsl.hpp>

#include <memory>
#include <optional>
#include <variant>

// Two nodes in two actor systems, linked by CAF's middleman over a simulated network
// (caf/test/io_dsl.hpp): what the many-nodes integration tests check with real
// processes, here deterministic, down to each message and timer.
using namespace diffplane;
using namespace std::chrono_literals;

namespace {

constexpr int cluster_count = 6;
constexpr const char* mesh_secret = "mesh-secret";

using testing::seeded_cluster_id;
using testing::seeded_secret;

/// The server's message types and a middleman whose actors run on the test coordinator.
struct mesh_config : caf::actor_system_config {
  mesh_config() {
    register_message_types(*this);
    load<caf::io::middleman>();
    set("middleman.attach-utility-actors", true);
  }
};

using planet_fixture = test_coordinator_fixture<mesh_config>;

/// node-a on earth, node-b on mars; one in-memory database (the store and the lease
/// table) that both reach. The planets' clocks move together: the lease table compares
/// times taken on both.
struct fixture : point_to_point_fixture<planet_fixture> {
  std::shared_ptr<testing::memory_store> store =
      std::make_shared<testing::memory_store>();
  std::shared_ptr<testing::memory_leases> leases =
      std::make_shared<testing::memory_leases>();
  node_actor node_a;
  node_actor node_b;
  mesh_gate_actor gate_a;
  mesh_gate_actor gate_b;
  bool cut = false;

  /// `node_a_heartbeat`: node-a's rounds, and so its renewals, on another beat than
  /// node-b's (the default one).
  explicit fixture(std::chrono::milliseconds node_a_heartbeat = 1000ms) {
    testing::seed_clusters(*store, leases, cluster_count);
    leases->caf_addresses["node-a"] = {"earth", 4000};
    leases->caf_addresses["node-b"] = {"mars", 4001};
    auto later =
        std::max(earth.sched.clock().current_time, mars.sched.clock().current_time);
    earth.sched.clock().current_time = later;
    mars.sched.clock().current_time = later;
    node_a = start(earth, "node-a", node_a_heartbeat);
    node_b = start(mars, "node-b");
    gate_a = publish_gate(earth, mars, node_a, "earth", 4000);
    gate_b = publish_gate(mars, earth, node_b, "mars", 4001);
  }

  ~fixture() {
    for (auto handle :
         {caf::actor_cast<caf::actor>(node_a), caf::actor_cast<caf::actor>(gate_a)})
      earth.self->send_exit(handle, caf::exit_reason::user_shutdown);
    for (auto handle :
         {caf::actor_cast<caf::actor>(node_b), caf::actor_cast<caf::actor>(gate_b)})
      mars.self->send_exit(handle, caf::exit_reason::user_shutdown);
    settle();
  }

  node_actor start(planet_type& planet, const std::string& node_id,
                   std::chrono::milliseconds heartbeat = 1000ms) {
    node_options options;
    options.membership.node_id = node_id;
    options.membership.heartbeat = heartbeat;
    options.membership.lease_ttl = leases->ttl;
    options.membership.mesh = true;
    options.membership.mesh_secret = mesh_secret;
    auto db = testing::spawn_memory_persistence(planet.sys, store);
    return spawn_node(
        planet.sys, options, [db](caf::actor_system&, const std::string&) { return db; },
        [this, node_id](caf::actor_system& system, std::shared_ptr<lease_ledger> ledger) {
          return testing::spawn_memory_lease_keeper(system, leases, node_id, ledger);
        });
  }

  /// Publishes the gate of `node` on `port` of `server`; `client` may connect to it once.
  mesh_gate_actor publish_gate(planet_type& server, planet_type& client, node_actor node,
                               const std::string& host, std::uint16_t port) {
    auto gate = spawn_mesh_gate(server.sys, node, mesh_secret);
    prepare_connection(server, client, host, port);
    server.publish(gate, port);
    return gate;
  }

  /// Runs every message and network event of both planets, firing no timer (the nodes
  /// heartbeat forever). While `cut`, nothing crosses the network: what one planet
  /// sends waits, unread, until the cut heals.
  void settle() {
    auto busy = [this](planet_type& p) {
      if (cut)
        return p.sched.try_run_once();
      return p.sched.try_run_once() || p.mpx.read_data() || p.mpx.try_exec_runnable() ||
             p.mpx.try_accept_connection();
    };
    while (busy(earth) || busy(mars))
      ; // again
  }

  /// Moves both clocks by `d` in steps of `step`, running what each step's timers start.
  void run_for(caf::timespan d, caf::timespan step = 100ms) {
    settle();
    for (caf::timespan passed{0}; passed < d; passed += step) {
      earth.sched.clock().advance_time(step);
      mars.sched.clock().advance_time(step);
      settle();
    }
  }

  /// The node holding the unexpired lease of cluster `i`, by the test's clock.
  std::string owner_of(int i) {
    const auto& lease = leases->leases.at(seeded_cluster_id(i));
    return lease.expires_at > earth.sched.clock().now() ? lease.node_id : std::string{};
  }

  using created = std::optional<std::variant<std::string, caf::error>>;

  /// Sends a create of cluster `i` to `node` of `planet` from an actor of its own, which
  /// keeps the answer in the result once one comes (the test's thread never waits).
  std::shared_ptr<created> send_create(planet_type& planet, const node_actor& node,
                                       int i) {
    auto authenticated = planet.self->request(
        node, caf::infinite, authenticate_atom::value, secrets::sha256(seeded_secret(i)));
    settle();
    cluster_actor cluster;
    authenticated.receive(
        [&](std::string&, cluster_actor& actor) { cluster = actor; },
        [](caf::error& err) { CAF_FAIL("not authenticated: " << err); });
    auto result = std::make_shared<created>();
    planet.sys.spawn([cluster, result](caf::event_based_actor* self) {
      self->request(cluster, caf::infinite,
                    create_job_request{"svc", "fn", "", "", 0, 1, false, 30, "", false})
          .then([result](std::string& id) { *result = id; },
                [result](caf::error& err) { *result = err; });
    });
    settle();
    return result;
  }

  /// Moves the clocks in steps of 100 ms until `result` holds an answer or `limit`
  /// passed; how long it took.
  caf::timespan await_answer(const std::shared_ptr<created>& result,
                             caf::timespan limit) {
    caf::timespan passed{0};
    while (!result->has_value() && passed < limit) {
      run_for(100ms);
      passed += 100ms;
    }
    return passed;
  }

  /// Creates a job of cluster `i` through `node` of `planet`, moving the clocks until it
  /// is answered (a forwarder waits between tries); its id, or the error.
  std::variant<std::string, caf::error> create_through(planet_type& planet,
                                                       const node_actor& node, int i) {
    auto result = send_create(planet, node, i);
    await_answer(result, 30s);
    if (!result->has_value())
      return caf::make_error(caf::sec::request_timeout);
    return **result;
  }

  /// node-a goes down as in a crash: its node actor, its gate and the cluster actors it
  /// serves (which it only monitors) end at once, without a word to the database;
  /// node-b hears of it over the network.
  void crash_node_a() {
    std::vector<caf::actor> doomed{caf::actor_cast<caf::actor>(node_a),
                                   caf::actor_cast<caf::actor>(gate_a)};
    for (int i = 0; i < cluster_count; ++i) {
      if (owner_of(i) != "node-a")
        continue;
      auto authenticated =
          earth.self->request(node_a, caf::infinite, authenticate_atom::value,
                              secrets::sha256(seeded_secret(i)));
      settle();
      authenticated.receive(
          [&](std::string&, cluster_actor& actor) {
            doomed.push_back(caf::actor_cast<caf::actor>(actor));
          },
          [](caf::error& err) {
            CAF_FAIL("node-a does not serve its cluster: " << err);
          });
    }
    for (const auto& actor : doomed)
      earth.self->send_exit(actor, caf::exit_reason::kill);
    settle();
  }

  /// The index of a cluster whose lease `node_id` holds; fails the test if none.
  int cluster_owned_by(const std::string& node_id) {
    for (int i = 0; i < cluster_count; ++i)
      if (owner_of(i) == node_id)
        return i;
    CAF_FAIL("no cluster is owned by " << node_id);
    return -1;
  }
};

bool is_job(const std::variant<std::string, caf::error>& created) {
  return std::holds_alternative<std::string>(created);
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(node_mesh_tests, fixture)

CAF_TEST(a request to a node that does not own the cluster reaches the owner) {
  run_for(10s);
  auto owned = cluster_owned_by("node-a");
  auto created = create_through(mars, node_b, owned);
  CAF_REQUIRE(is_job(created));
  CAF_CHECK_EQUAL(
      store->jobs.count(seeded_cluster_id(owned) + "/" + std::get<std::string>(created)),
      1u);
  // Both directions work: node-b's clusters through node-a too.
  auto other = cluster_owned_by("node-b");
  CAF_CHECK(is_job(create_through(earth, node_a, other)));
}

CAF_TEST(the owner node going down moves its clusters at lease expiry not before) {
  run_for(10s);
  auto owned = cluster_owned_by("node-a");
  auto epoch = leases->leases.at(seeded_cluster_id(owned)).epoch;
  CAF_REQUIRE(is_job(create_through(mars, node_b, owned)));
  crash_node_a();
  // The down message alone moves nothing: the lease still runs.
  auto acquisitions = leases->history.size();
  run_for(leases->ttl / 2);
  CAF_CHECK_EQUAL(owner_of(owned), "node-a");
  CAF_CHECK_EQUAL(leases->history.size(), acquisitions);
  // Once it ran out, node-b acquires it with a new epoch and serves it.
  run_for(leases->ttl / 2 + 1s);
  CAF_CHECK_EQUAL(owner_of(owned), "node-b");
  CAF_CHECK_EQUAL(leases->leases.at(seeded_cluster_id(owned)).epoch, epoch + 1);
  auto created = create_through(mars, node_b, owned);
  CAF_REQUIRE(is_job(created));
  CAF_CHECK_EQUAL(
      store->jobs.count(seeded_cluster_id(owned) + "/" + std::get<std::string>(created)),
      1u);
}

CAF_TEST(
    a node cut off from a live owner answers its requests unavailable in bounded time) {
  run_for(10s);
  auto owned = cluster_owned_by("node-a");
  CAF_REQUIRE(is_job(create_through(mars, node_b, owned)));
  // Both nodes still reach the database, so node-a keeps the lease; node-b cannot reach
  // node-a, and its tries there go unanswered.
  cut = true;
  auto first = send_create(mars, node_b, owned);
  auto took = await_answer(first, 30s);
  CAF_REQUIRE(first->has_value());
  CAF_REQUIRE(std::holds_alternative<caf::error>(**first));
  CAF_CHECK_EQUAL(code_of(std::get<caf::error>(**first)), error_code::unavailable);
  CAF_MESSAGE("the first request across the cut answered after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
              << " ms");
  // Two lease TTLs and one try at most, plus the tries under way: not the 25 s budget.
  CAF_CHECK_LESS_OR_EQUAL(took, 2 * leases->ttl + 6s);
  // Later requests make one try and fail.
  auto second = send_create(mars, node_b, owned);
  took = await_answer(second, 30s);
  CAF_REQUIRE(second->has_value());
  CAF_CHECK(!is_job(**second));
  CAF_CHECK_LESS_OR_EQUAL(took, 2s + 100ms);
  CAF_CHECK_EQUAL(owner_of(owned), "node-a");
  // Healed: forwarded again, answered by the owner.
  cut = false;
  run_for(1s);
  auto third = send_create(mars, node_b, owned);
  await_answer(third, 5s);
  CAF_REQUIRE(third->has_value());
  CAF_CHECK(is_job(**third));
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

/// node-a renews on a beat of its own, so that its leases run out between two of
/// node-b's heartbeat rounds.
struct offbeat_fixture : fixture {
  offbeat_fixture() : fixture(700ms) {}
};

/// How long after `expiry` node-b's heartbeat rounds, last one at `last_round`, next
/// look at the lease table.
caf::timespan next_heartbeat_after(caf::actor_clock::time_point expiry,
                                   caf::actor_clock::time_point last_round) {
  constexpr caf::timespan heartbeat = 1000ms;
  auto next = last_round;
  while (next < expiry)
    next += heartbeat;
  return next - expiry;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(node_mesh_takeover_tests, offbeat_fixture)

CAF_TEST(a down owner is taken over when its lease runs out not at the next heartbeat) {
  run_for(10s);
  auto owned = cluster_owned_by("node-a");
  const auto& lease = leases->leases.at(seeded_cluster_id(owned));
  // Crash node-a when its lease will run out long before node-b's next heartbeat round.
  for (int i = 0; i < 100; ++i) {
    if (next_heartbeat_after(lease.expires_at, leases->heartbeats.at("node-b")) >= 500ms)
      break;
    run_for(100ms);
  }
  auto expiry = lease.expires_at;
  auto heartbeat_later = next_heartbeat_after(expiry, leases->heartbeats.at("node-b"));
  CAF_REQUIRE_GREATER_OR_EQUAL(heartbeat_later, caf::timespan{500ms});
  crash_node_a();
  caf::timespan taken_after{0};
  bool taken = false;
  while (!taken && earth.sched.clock().now() < expiry + 5s) {
    run_for(10ms, 10ms);
    taken = owner_of(owned) == "node-b";
    taken_after = earth.sched.clock().now() - expiry;
  }
  CAF_REQUIRE(taken);
  auto ms = [](caf::timespan d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  CAF_MESSAGE("taken over " << ms(taken_after) << " ms after the lease ran out; the next "
                            << "heartbeat round came " << ms(heartbeat_later)
                            << " ms after it");
  CAF_CHECK_GREATER_OR_EQUAL(taken_after, caf::timespan{0});
  CAF_CHECK_LESS_OR_EQUAL(taken_after, caf::timespan{100ms});
  CAF_CHECK(is_job(create_through(mars, node_b, owned)));
}

CAF_TEST_FIXTURE_SCOPE_END()
