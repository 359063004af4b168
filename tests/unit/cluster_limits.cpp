#define CAF_SUITE cluster_limits

#include "cluster_fixture.hpp"

#include "persistence/errors.hpp"

using namespace diffplane;

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
