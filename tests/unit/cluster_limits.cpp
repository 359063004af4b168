#define CAF_SUITE cluster_limits

#include "cluster_fixture.hpp"

#include "metrics/catalog.hpp"
#include "persistence/errors.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

// A cluster holds a bounded number of machines and services: one tenant's stream of new
// machine ids or service names must not grow the server without end.
namespace {

struct fixture : testing::cluster_fixture {
  fixture() {
    options.max_machines_per_cluster = 2;
    options.max_services_per_cluster = 2;
    options.max_live_jobs_per_cluster = 3;
    options.machine_retention = std::chrono::hours{1};
    restart_cluster(); // with the limits above
  }

  jobs_request poll_of(const std::string& machine, const std::string& service) {
    auto request = poll(machine);
    request.service = service;
    request.ttl_ms = 5000;
    return request;
  }

  /// Sends a poll that parks (or is refused) and returns the code it was refused with.
  error_code poll_outcome(const std::string& machine, const std::string& service) {
    auto parked_before = parked->load();
    auto response = self->request(cluster, caf::infinite, poll_of(machine, service));
    run();
    if (parked->load() > parked_before)
      return error_code::none;
    error_code code = error_code::none;
    response.receive([](std::vector<dispatched_job>&) {},
                     [&](caf::error& err) { code = code_of(err); });
    return code;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_limits_tests, fixture)

CAF_TEST(a poll from one machine too many is refused and not recorded) {
  CAF_CHECK_EQUAL(poll_outcome("m1", "svc"), error_code::none);
  CAF_CHECK_EQUAL(poll_outcome("m2", "svc"), error_code::none);
  CAF_CHECK_EQUAL(poll_outcome("m3", "svc"), error_code::limit_reached);
  CAF_CHECK_EQUAL(store->machines.count("c1/m3"), 0u);
  // Known machines go on polling.
  CAF_CHECK_EQUAL(poll_outcome("m1", "svc"), error_code::none);
  auto details = ask<cluster_details>(details_atom::value);
  CAF_CHECK_EQUAL(details.machines.size(), 2u);
}

CAF_TEST(a service too many is refused for creates and polls) {
  create_job_request request;
  request.target_fn = "f";
  request.service = "a";
  ask<std::string>(request);
  request.service = "b";
  ask<std::string>(request);
  request.service = "c";
  CAF_CHECK_EQUAL(code_of(ask_error<std::string>(request)), error_code::limit_reached);
  CAF_CHECK_EQUAL(store->jobs.size(), 2u);
  CAF_CHECK_EQUAL(poll_outcome("m1", "c"), error_code::limit_reached);
  // The services it has still take work.
  request.service = "a";
  ask<std::string>(request);
  CAF_CHECK_EQUAL(store->jobs.size(), 3u);
}

CAF_TEST(a result from a machine beyond the cap is still taken) {
  auto id = create("f");
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1")).size(), 1u);
  CAF_CHECK_EQUAL(poll_outcome("m2", "svc"), error_code::none);
  CAF_CHECK(ask<bool>(result(id, "m1")));
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::success);
}

CAF_TEST(a create beyond the live jobs cap is refused until a job finishes) {
  auto first = create("f");
  create("f");
  create("f");
  create_job_request request;
  request.service = "svc";
  request.target_fn = "f";
  CAF_CHECK_EQUAL(code_of(ask_error<std::string>(request)), error_code::limit_reached);
  CAF_CHECK_EQUAL(store->jobs.size(), 3u);
  // A running job is still live; a finished one makes room.
  CAF_REQUIRE_EQUAL(ask<std::vector<dispatched_job>>(poll("m1", 1)).size(), 1u);
  CAF_CHECK_EQUAL(code_of(ask_error<std::string>(request)), error_code::limit_reached);
  CAF_REQUIRE(ask<bool>(result(first, "m1")));
  ask<std::string>(request);
  CAF_CHECK_EQUAL(store->jobs.size(), 4u);
  CAF_CHECK_EQUAL(code_of(ask_error<std::string>(request)), error_code::limit_reached);
}

CAF_TEST(a machine silent past the retention is forgotten and frees its place) {
  using namespace std::chrono_literals;
  CAF_CHECK_EQUAL(poll_outcome("m1", "svc"), error_code::none);
  CAF_CHECK_EQUAL(poll_outcome("m2", "svc"), error_code::none);
  advance_in_steps(30min, 10s);
  // Silent, so inactive, but remembered within the retention.
  CAF_CHECK_EQUAL(poll_outcome("m3", "svc"), error_code::limit_reached);
  CAF_CHECK_EQUAL(ask<cluster_details>(details_atom::value).machines.size(), 2u);
  advance_in_steps(31min, 10s);
  CAF_CHECK_EQUAL(ask<cluster_details>(details_atom::value).machines.size(), 0u);
  CAF_CHECK_EQUAL(poll_outcome("m3", "svc"), error_code::none);
  // A forgotten machine that polls again is recorded anew.
  CAF_CHECK_EQUAL(poll_outcome("m1", "svc"), error_code::none);
  CAF_CHECK_EQUAL(ask<cluster_details>(details_atom::value).machines.size(), 2u);
}

CAF_TEST(polls beyond the cluster parking cap are refused while other clusters park) {
  options.max_parked_polls_per_cluster = 2;
  restart_cluster();
  CAF_CHECK_EQUAL(poll_outcome("m1", "svc"), error_code::none);
  CAF_CHECK_EQUAL(poll_outcome("m2", "svc"), error_code::none);
  CAF_CHECK_EQUAL(poll_outcome("m1", "svc"), error_code::limit_reached);
  CAF_CHECK_EQUAL(parked->load(), 2u);
  // A result wait finds no place either: it is answered at once, as after its ttl.
  create_job_request request;
  request.service = "other";
  request.target_fn = "f";
  auto id = ask<std::string>(request);
  auto rows = ask<std::vector<job_status_row>>(status_request{{id}, 5000, false});
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::pending);
  CAF_CHECK_EQUAL(parked->load(), 2u);
  // Another cluster of the process still parks its polls.
  cluster_record other_info{"c2", "sk_other", "", 1, false, false};
  store->clusters.try_emplace(other_info.id, other_info);
  auto other =
      spawn_cluster(self.ptr(), cluster_context{other_info, db, db,
                                                caf::actor_cast<cluster_parent>(self),
                                                options, parked});
  run();
  self->request(other, caf::infinite, poll_of("m1", "svc"));
  run();
  CAF_CHECK_EQUAL(parked->load(), 3u);
  caf::anon_send_exit(other, caf::exit_reason::kill);
  run();
  // The cluster's count went with it; this cluster's polls still count.
  CAF_CHECK_EQUAL(parked->load(), 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()

// A cluster holds a bounded number of bytes of job arguments and results: under the
// live-job cap alone, a few thousand jobs of 4 MB arguments pinned gigabytes.
namespace {

struct budget_fixture : testing::cluster_fixture {
  budget_fixture() {
    options.max_live_bytes_per_cluster = 100;
    restart_cluster(); // with the budget above
  }

  static create_job_request request_with(std::size_t args_bytes, bool durable = true) {
    auto request = create_request();
    request.target_args = std::string(args_bytes, 'a');
    request.durable = durable;
    return request;
  }

  std::string create_with(std::size_t args_bytes, bool durable = true) {
    return ask<std::string>(request_with(args_bytes, durable));
  }

  /// The refusal of a create of `args_bytes`, which must be refused for the budget.
  std::string refusal_of(std::size_t args_bytes, bool durable = true) {
    auto err = ask_error<std::string>(request_with(args_bytes, durable));
    CAF_CHECK_EQUAL(code_of(err), error_code::limit_reached);
    return message_of(err);
  }

  /// Whether the refusal of a create of `args_bytes` says the cluster holds `held`.
  bool refused_holding(std::size_t args_bytes, std::uint64_t held, bool durable = true) {
    auto message = refusal_of(args_bytes, durable);
    CAF_MESSAGE("refused: " << message);
    return message.find("holds " + std::to_string(held) + " bytes") != std::string::npos;
  }

  /// Takes `count` jobs for machine m1 and posts `results[i]` for the i-th.
  void finish_all(const std::vector<std::string>& ids,
                  const std::vector<std::string>& results) {
    auto taken = ask<std::vector<dispatched_job>>(poll("m1", 100));
    CAF_REQUIRE_EQUAL(taken.size(), ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
      CAF_REQUIRE(ask<bool>(result(ids[i], "m1", results[i])));
  }

  /// Past the linger of every result finished so far, and the sweep that drops them.
  void linger_out() {
    advance_in_steps(options.result_linger + options.sweep_interval * 2);
  }

  /// diffplane_live_bytes, which every cluster of the process adds to at its sweeps.
  static std::int64_t live_bytes_gauge() { return metrics::jobs().live_bytes.value(); }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_byte_budget_tests, budget_fixture)

CAF_TEST(creates whose arguments pass the byte budget are refused and not stored) {
  auto first = create_with(60);
  auto second = create_with(40); // exactly the budget
  CAF_CHECK(refused_holding(1, 100));
  CAF_CHECK_EQUAL(store->jobs.size(), 2u);
  CAF_CHECK_EQUAL(store->job_inserts, 2u);
  // A job whose arguments alone pass the budget is refused however little is held.
  CAF_CHECK(refused_holding(101, 100));
  // Finishing frees the arguments; the results count until they linger out.
  finish_all({first, second}, {"b2s=", "b2s="});
  CAF_CHECK(refused_holding(93, 8));
  create_with(92);
  CAF_CHECK(refused_holding(1, 100));
  CAF_CHECK_EQUAL(store->jobs.size(), 3u);
}

CAF_TEST(creates are accepted again once results linger out) {
  auto first = create_with(50);
  auto second = create_with(50);
  finish_all({first, second}, {"cmVzdWx0", "cmVzdWx0"});
  CAF_CHECK(refused_holding(100, 16));
  linger_out();
  // Nothing held: the whole budget is free again, not a byte less.
  auto third = create_with(100);
  CAF_CHECK(refused_holding(1, 100));
  finish_all({third}, {""});
  create_with(100);
}

CAF_TEST(a result over the budget is taken and counts until it lingers out) {
  auto id = create_with(10);
  finish_all({id}, {std::string(300, 'r')});
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::success);
  CAF_CHECK(refused_holding(1, 300));
  // Polls are answered from memory meanwhile, the result whole.
  auto rows = ask<std::vector<job_status_row>>(status_request{{id}, 0, false});
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].result.size(), 300u);
  linger_out();
  create_with(100);
}

CAF_TEST(ephemeral jobs count toward the byte budget like durable ones) {
  auto ephemeral = create_with(60, false);
  CAF_CHECK(refused_holding(41, 60));
  CAF_CHECK(refused_holding(41, 60, false));
  auto durable = create_with(40);
  CAF_CHECK(refused_holding(1, 100, false));
  // Ephemeral results linger in memory too.
  finish_all({ephemeral, durable}, {std::string(30, 'r'), ""});
  CAF_CHECK(refused_holding(71, 30, false));
  linger_out();
  create_with(100, false);
  CAF_CHECK(refused_holding(1, 100));
}

CAF_TEST(arguments count while their insert is in flight and not after it failed) {
  store->hold_job_inserts = true;
  auto pending = self->request(cluster, caf::infinite, request_with(60));
  run();
  // Asked with an ephemeral create: a durable one that passed would wait for the store.
  CAF_CHECK(refused_holding(41, 60, false));
  answer_held_writes(false);
  run();
  pending.receive(
      [](std::string&) { CAF_FAIL("the insert was to fail"); },
      [](caf::error& err) { CAF_CHECK_EQUAL(code_of(err), error_code::unavailable); });
  store->hold_job_inserts = false;
  create_with(100);
}

CAF_TEST(jobs loaded at a restart count toward the byte budget) {
  create_with(70);
  restart_cluster();
  CAF_CHECK(refused_holding(31, 70));
  create_with(30);
}

CAF_TEST(the byte count returns to exactly zero when nothing is held) {
  auto before = live_bytes_gauge();
  // Durable and ephemeral jobs, resolved, refused a late result, and failed.
  auto a = create_with(25);
  auto b = create_with(25, false);
  auto once = request_with(25);
  once.retry_count_on_stall = 0;
  auto c = ask<std::string>(once);
  advance_time(options.sweep_interval); // a sweep publishes the count
  CAF_CHECK_EQUAL(live_bytes_gauge() - before, 75);
  auto taken = ask<std::vector<dispatched_job>>(poll("m1", 100));
  CAF_REQUIRE_EQUAL(taken.size(), 3u);
  CAF_REQUIRE(ask<bool>(result(a, "m1", std::string(7, 'r'))));
  CAF_REQUIRE(ask<bool>(result(b, "m1", std::string(9, 'r'))));
  // A late second result of a finished job changes nothing.
  CAF_CHECK(!ask<bool>(result(a, "m1", std::string(50, 'r'))));
  CAF_CHECK(refused_holding(85, 41));
  // c's machine falls silent past its poll's ttl (5 s) and the stall window: its only
  // attempt stalls and the job fails.
  advance_in_steps(5s + options.machine_stall + options.sweep_interval * 2);
  CAF_CHECK_EQUAL(store->job("c1", c)->status, job_status::failure);
  linger_out();
  CAF_CHECK_EQUAL(live_bytes_gauge() - before, 0);
  create_with(100);
  CAF_CHECK(refused_holding(1, 100));
}

CAF_TEST(a cluster that ends takes its bytes out of the gauge) {
  auto before = live_bytes_gauge();
  create_with(40);
  advance_time(options.sweep_interval);
  CAF_CHECK_EQUAL(live_bytes_gauge() - before, 40);
  caf::anon_send_exit(cluster, caf::exit_reason::kill);
  run();
  CAF_CHECK_EQUAL(live_bytes_gauge() - before, 0);
  self->receive([](caf::down_msg&) {}, caf::after(std::chrono::seconds{0}) >> [] {});
  start_cluster();
}

CAF_TEST_FIXTURE_SCOPE_END()
