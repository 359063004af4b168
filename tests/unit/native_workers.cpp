#define CAF_SUITE native_workers

#include "cluster_fixture.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

// A native worker is a machine whose connection the server sees end: the cluster hears
// machine_inactive at once, its running attempts stall (their retry policy applies) and
// its parked requests for jobs are answered empty, so no job goes to a closed connection.
namespace {

struct fixture : testing::cluster_fixture {
  fixture() {
    // Nothing goes silent by itself during these tests: only the connection's end counts.
    options.machine_stall = std::chrono::hours{10};
    restart_cluster();
  }

  void gone(const std::string& machine) {
    self->send(cluster, machine_inactive_atom::value, machine);
    run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(native_workers_tests, fixture)

CAF_TEST(a gone machine stalls its running job at once and another worker gets it) {
  auto id = create("f", 1);
  auto first = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_REQUIRE_EQUAL(first.size(), 1u);
  // m2 waits for work: a parked request, as a native worker with credit keeps one.
  auto waiting = self->request(cluster, caf::infinite, poll("m2"));
  run();
  gone("m1");
  std::vector<dispatched_job> second;
  waiting.receive([&](std::vector<dispatched_job>& jobs) { second = jobs; },
                  [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(second.size(), 1u);
  CAF_CHECK_EQUAL(second[0].id, id);
  CAF_CHECK_EQUAL(second[0].attempt, 2);
  // The first attempt's late result is refused; the second's is taken.
  CAF_CHECK(!ask<bool>(result(id, "m1")));
  CAF_CHECK(ask<bool>(result(id, "m2", "cmVzdWx0", 2)));
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::success);
}

CAF_TEST(a gone machine with no retries left fails its job) {
  auto id = create("f", 0);
  ask<std::vector<dispatched_job>>(poll("m1"));
  gone("m1");
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::failure);
}

CAF_TEST(the parked request of a gone machine is answered empty and takes no job) {
  auto waiting = self->request(cluster, caf::infinite, poll("m1"));
  run();
  CAF_REQUIRE_EQUAL(parked->load(), 1u);
  gone("m1");
  std::vector<dispatched_job> jobs{dispatched_job{}};
  waiting.receive([&](std::vector<dispatched_job>& x) { jobs = x; },
                  [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK(jobs.empty());
  CAF_CHECK_EQUAL(parked->load(), 0u);
  // A job created now stays pending for the next worker.
  auto id = create("f");
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::pending);
}

CAF_TEST(pushed jobs go out in creation order up to the request limit) {
  auto a = create("f");
  auto b = create("f");
  auto c = create("f");
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1", 2));
  CAF_REQUIRE_EQUAL(jobs.size(), 2u);
  CAF_CHECK_EQUAL(jobs[0].id, a);
  CAF_CHECK_EQUAL(jobs[1].id, b);
  CAF_CHECK_EQUAL(store->job("c1", c)->status, job_status::pending);
}

CAF_TEST(a machine that serves again after it was gone is active) {
  auto id = create("f", 1);
  ask<std::vector<dispatched_job>>(poll("m1"));
  gone("m1");
  auto again = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  CAF_CHECK_EQUAL(again[0].id, id);
  CAF_CHECK(ask<bool>(result(id, "m1", "cmVzdWx0", 2)));
}

CAF_TEST(a busy worker whose connection is alive does not stall) {
  options.machine_stall = std::chrono::seconds{10};
  restart_cluster();
  auto id = create("f", 1);
  ask<std::vector<dispatched_job>>(poll("m1", 1));
  // All its credit is spent: no request for jobs parked, only its heartbeats. Long past
  // the poll's ttl (5 s) plus the stall window (10 s), the job still runs.
  for (int i = 0; i < 40; ++i) {
    advance_time(1s);
    self->send(cluster, machine_alive_atom::value, std::string{"m1"});
    run();
  }
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::running);
  // Once the heartbeats stop, the silence counts again.
  for (int i = 0; i < 12; ++i) {
    advance_time(1s);
    run();
  }
  CAF_CHECK_EQUAL(store->job("c1", id)->status, job_status::pending);
}

CAF_TEST(a heartbeat of an unknown machine records nothing) {
  self->send(cluster, machine_alive_atom::value, std::string{"never-polled"});
  run();
  auto details = ask<cluster_details>(details_atom::value);
  CAF_CHECK(details.machines.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
