#define CAF_SUITE cluster_loading

// A cluster serves once its settings and machines are loaded; its live jobs follow in
// pages. These tests hold the pages in the in-memory store (hold_live_job_pages) and
// look at what the cluster answers meanwhile.

#include "cluster_fixture.hpp"

#include "persistence/errors.hpp"

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::cluster_fixture {
  fixture() {
    // Two jobs a page: five seeded jobs take three pages.
    options.load_page_jobs = 2;
  }

  /// A page still held keeps the store's actor alive and the test system from ending.
  ~fixture() { release_all_pages(); }

  job_record seeded(const std::string& id, job_status status = job_status::pending) {
    job_record job;
    job.cluster_id = info.id;
    job.id = id;
    job.service = "svc";
    job.target_fn = "f";
    job.target_args = "YQ==";
    job.status = status;
    job.max_attempts = 2;
    job.revision = 3;
    if (status == job_status::running) {
      job.attempts_used = 1;
      job.executing_machine_id = "old-machine";
    }
    if (status == job_status::success) {
      job.attempts_used = 1;
      job.result_type = result_kind::resolution;
      job.result = "ZG9uZQ==";
      job.resulted_at = wall_clock_start;
    }
    job.created_at = 100 + static_cast<timestamp_ms>(store->jobs.size());
    store->jobs[info.id + "/" + id] = job;
    return job;
  }

  /// Seeds pending jobs a to e.
  void seed_five() {
    for (const char* id : {"a", "b", "c", "d", "e"})
      seeded(id);
  }

  /// Restarts the cluster with its pages held: it is ready, its jobs are not loaded.
  void restart_holding_pages(bool adopt = false) {
    store->hold_live_job_pages = true;
    if (adopt)
      hand_over_cluster();
    else
      restart_cluster();
  }

  /// Answers the page the cluster waits for; it asks for the next one at once.
  void release_page() {
    caf::anon_send(db, flush_atom::value);
    run();
  }

  void release_all_pages() {
    store->hold_live_job_pages = false;
    release_page();
  }

  std::vector<std::string> ids_of(const std::vector<dispatched_job>& jobs) {
    std::vector<std::string> ids;
    for (const auto& job : jobs)
      ids.push_back(job.id);
    return ids;
  }
};

using ids = std::vector<std::string>;

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_loading_tests, fixture)

CAF_TEST(live jobs load in pages and every one is dispatched once in order) {
  seed_five();
  store->live_job_pages = 0;
  restart_cluster();
  // Three pages of two: the last one short.
  CAF_CHECK_EQUAL(store->live_job_pages, 3u);
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK_EQUAL(ids_of(jobs), (ids{"a", "b", "c", "d", "e"}));
}

CAF_TEST(an exact page size ends with an empty page) {
  for (const char* id : {"a", "b", "c", "d"})
    seeded(id);
  store->live_job_pages = 0;
  restart_cluster();
  CAF_CHECK_EQUAL(store->live_job_pages, 3u);
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK_EQUAL(ids_of(jobs), (ids{"a", "b", "c", "d"}));
}

CAF_TEST(loaded jobs are dispatched while later pages load) {
  seed_five();
  restart_holding_pages();
  CAF_CHECK_EQUAL(store->held_pages.size(), 1u);
  release_page();
  // The first page is admitted and the second is asked for.
  CAF_CHECK_EQUAL(store->held_pages.size(), 1u);
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK_EQUAL(ids_of(jobs), (ids{"a", "b"}));
  release_all_pages();
  jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK_EQUAL(ids_of(jobs), (ids{"c", "d", "e"}));
}

CAF_TEST(a create while loading is answered and its job is not loaded again) {
  seed_five();
  restart_holding_pages();
  auto id = create("f");
  CAF_CHECK(store->job("c1", id) != nullptr);
  // Created after every job the load reads.
  CAF_CHECK(store->job("c1", id)->created_at > 104);
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK_EQUAL(ids_of(jobs), (ids{id}));
  release_all_pages();
  jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK_EQUAL(ids_of(jobs), (ids{"a", "b", "c", "d", "e"}));
}

CAF_TEST(a create with the execution id of a job not loaded yet answers that job) {
  seed_five();
  restart_holding_pages();
  auto inserts = store->job_inserts;
  auto response = self->request(cluster, caf::infinite, create_request("e"));
  run();
  // Held until the load ends: no insert, no answer yet.
  CAF_CHECK_EQUAL(store->job_inserts, inserts);
  release_all_pages();
  std::string answered;
  response.receive(
      [&](std::string& id) { answered = id; },
      [&](caf::error& err) { CAF_FAIL("unexpected error: " << sys.render(err)); });
  CAF_CHECK_EQUAL(answered, "e");
  CAF_CHECK_EQUAL(store->job_inserts, inserts);
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK_EQUAL(ids_of(jobs), (ids{"a", "b", "c", "d", "e"}));
}

CAF_TEST(a result for a job not loaded yet waits for its page) {
  store->machines[info.id + "/old-machine"] =
      machine_record{info.id, "old-machine", "svc", "10.0.0.1", "", wall_clock_start};
  for (const char* id : {"a", "b", "c", "d"})
    seeded(id);
  seeded("handed", job_status::running);
  restart_holding_pages(true);
  auto response = self->request(cluster, caf::infinite,
                                result("handed", "old-machine", "cmVzdWx0", 1));
  run();
  CAF_CHECK_EQUAL(store->job("c1", "handed")->status, job_status::running);
  release_all_pages();
  bool accepted = false;
  response.receive(
      [&](bool ok) { accepted = ok; },
      [&](caf::error& err) { CAF_FAIL("unexpected error: " << sys.render(err)); });
  CAF_CHECK(accepted);
  CAF_CHECK_EQUAL(store->job("c1", "handed")->status, job_status::success);
}

CAF_TEST(a result for an unknown job is answered not found after the load) {
  seed_five();
  restart_holding_pages();
  auto response = self->request(cluster, caf::infinite, result("nope", "m1"));
  run();
  release_all_pages();
  caf::error refused;
  response.receive([&](bool) { CAF_FAIL("expected an error"); },
                   [&](caf::error& err) { refused = err; });
  CAF_CHECK_EQUAL(code_of(refused), error_code::not_found);
}

CAF_TEST(a status of a finished job is read from the database while loading) {
  seed_five();
  seeded("done", job_status::success);
  restart_holding_pages();
  auto rows = ask<std::vector<job_status_row>>(status_request{{"done"}, 5000, true});
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::success);
  CAF_CHECK_EQUAL(rows[0].result, "ZG9uZQ==");
  CAF_CHECK_EQUAL(store->held_pages.size(), 1u);
}

CAF_TEST(a status without ttl of a job not loaded yet is read from the database) {
  seed_five();
  restart_holding_pages();
  auto rows = ask<std::vector<job_status_row>>(status_request{{"e"}, 0, true});
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::pending);
  CAF_CHECK_EQUAL(store->held_pages.size(), 1u);
}

CAF_TEST(a long poll of a job not loaded yet waits for it and for its result) {
  seed_five();
  restart_holding_pages();
  auto response =
      self->request(cluster, caf::infinite, status_request{{"e"}, 5000, true});
  run();
  release_all_pages();
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_REQUIRE_EQUAL(jobs.size(), 5u);
  CAF_CHECK(ask<bool>(result("e", "m1", "ZG9uZQ==")));
  std::vector<job_status_row> rows;
  response.receive(
      [&](std::vector<job_status_row>& answered) { rows = answered; },
      [&](caf::error& err) { CAF_FAIL("unexpected error: " << sys.render(err)); });
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].status, job_status::success);
  CAF_CHECK_EQUAL(rows[0].result, "ZG9uZQ==");
}

CAF_TEST(held requests are answered moved when the cluster moves before its load ends) {
  seed_five();
  restart_holding_pages();
  auto response = self->request(cluster, caf::infinite, create_request("e"));
  run();
  caf::anon_send(cluster, quiesce_atom::value);
  run();
  caf::error refused;
  response.receive([&](std::string&) { CAF_FAIL("expected an error"); },
                   [&](caf::error& err) { refused = err; });
  CAF_CHECK_EQUAL(code_of(refused), error_code::moved);
  release_all_pages();
}

CAF_TEST(older live jobs are not moved while the load runs) {
  seed_five();
  restart_holding_pages();
  create("f");
  advance_in_steps(5s);
  CAF_CHECK_EQUAL(store->live_jobs_before.count("c1"), 0u);
  release_all_pages();
  advance_in_steps(5s);
  CAF_CHECK_EQUAL(store->live_jobs_before.count("c1"), 1u);
}

CAF_TEST(a job finished while later pages load is not loaded again) {
  seed_five();
  restart_holding_pages();
  release_page();
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_REQUIRE_EQUAL(ids_of(jobs), (ids{"a", "b"}));
  CAF_CHECK(ask<bool>(result("a", "m1")));
  CAF_CHECK_EQUAL(store->job("c1", "a")->status, job_status::success);
  // The snapshot the pages come from still holds a and b as pending: they came in the
  // first page and none of the later ones brings them again.
  release_all_pages();
  jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK_EQUAL(ids_of(jobs), (ids{"c", "d", "e"}));
  auto status = ask<std::vector<job_status_row>>(status_request{{"a"}, 0, true});
  CAF_REQUIRE_EQUAL(status.size(), 1u);
  CAF_CHECK_EQUAL(status[0].status, job_status::success);
}

CAF_TEST(the live job cap counts the jobs not loaded yet) {
  options.max_live_jobs_per_cluster = 6;
  seed_five();
  restart_holding_pages();
  // The first page comes before the count; the second brings it.
  release_page();
  release_page();
  // Four loaded, one still to come: room for one more.
  create("f");
  auto refused = ask_error<std::string>(create_request());
  CAF_CHECK_EQUAL(code_of(refused), error_code::limit_reached);
  release_all_pages();
  refused = ask_error<std::string>(create_request());
  CAF_CHECK_EQUAL(code_of(refused), error_code::limit_reached);
  auto jobs = ask<std::vector<dispatched_job>>(poll("m1"));
  CAF_CHECK_EQUAL(jobs.size(), 6u);
}

CAF_TEST(held requests get the error when a page cannot be read) {
  seed_five();
  restart_holding_pages();
  release_page();
  auto response = self->request(cluster, caf::infinite, create_request("e"));
  run();
  store->fail_next_page = true;
  release_page();
  // Answered at once rather than dropped with the cluster, which ends (the node starts
  // it again): a dropped promise is never answered, and this receive would wait until
  // the suite's watchdog ends the test.
  caf::error refused;
  response.receive([&](std::string&) { CAF_FAIL("expected an error"); },
                   [&](caf::error& err) { refused = err; });
  CAF_CHECK_EQUAL(code_of(refused), error_code::unavailable);
  store->hold_live_job_pages = false;
}

CAF_TEST_FIXTURE_SCOPE_END()
