#define CAF_SUITE cluster_resources

#include "resource_fixture.hpp"

#include "actors/resource_lifecycle.hpp"

#include <nlohmann/json.hpp>

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::resource_fixture {
  fixture() {
    options.resources.backoff_base = 1000ms;
    options.resources.backoff_cap = 4000ms;
    options.resources.work_timeout_seconds = 30;
    restart_cluster();
  }

  static resource_input item(const std::string& id, const std::string& object_json,
                             std::int64_t version = -1) {
    resource_input input;
    input.kind = "user";
    input.id = id;
    input.object_json = object_json;
    if (version >= 0) {
      input.has_version = true;
      input.version = version;
    }
    return input;
  }

  /// Informs one resource; its outcome.
  std::string inform(const std::string& id, const std::string& object_json,
                     std::int64_t version = -1) {
    auto results = ask<std::vector<inform_result>>(
        resource_inform_request{{item(id, object_json, version)}});
    CAF_REQUIRE_EQUAL(results.size(), 1u);
    return results.front().outcome;
  }

  const resource_record& stored(const std::string& id) {
    const auto* r = store->resource("c1", "user", id);
    CAF_REQUIRE(r != nullptr);
    return *r;
  }

  /// The "n" of the object in the arguments of the job row `id` (-1: no such row).
  int stored_object_n(const std::string& id) {
    const auto* job = store->job("c1", id);
    if (job == nullptr)
      return -1;
    auto n = argument_of(dispatched_job{"", "", job->target_args, 1})["object"]["n"];
    return n.is_number() ? n.get<int>() : -1;
  }

  std::size_t work_jobs() const {
    std::size_t n = 0;
    for (const auto& [key, job] : store->jobs)
      n += job.service == "resources.user" ? 1 : 0;
    return n;
  }

  /// Informs `items` from `caller` without waiting for the answer.
  auto inform_from(caf::scoped_actor& caller, std::vector<resource_input> items) {
    auto response = caller->request(cluster, caf::infinite,
                                    resource_inform_request{std::move(items)});
    run();
    return response;
  }

  /// The outcomes an inform request was answered with.
  template <class Response> std::vector<std::string> outcomes_of(Response& response) {
    std::vector<std::string> out;
    response.receive(
        [&](std::vector<inform_result>& results) {
          for (auto& r : results)
            out.push_back(r.outcome);
        },
        [&](caf::error& err) { CAF_FAIL("unexpected error: " << sys.render(err)); });
    return out;
  }

  static nlohmann::json argument_of(const dispatched_job& job) {
    return nlohmann::json::parse(resources::decode_payload(job.target_args))[0];
  }
};

const std::string synced = "{\"action\":\"synced\"}";

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_resources_tests, fixture)

CAF_TEST(an informed resource is scheduled with one work job) {
  CAF_CHECK_EQUAL(inform("42", "{\"name\":\"ada\"}"), "scheduled");
  CAF_CHECK_EQUAL(stored("42").state, resource_state::scheduled);
  CAF_CHECK_EQUAL(work_jobs(), 1u);
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(work[0].target_fn, "work");
  auto argument = argument_of(work[0]);
  CAF_CHECK_EQUAL(argument["kind"], "user");
  CAF_CHECK_EQUAL(argument["id"], "42");
  CAF_CHECK_EQUAL(argument["object"]["name"], "ada");
  CAF_CHECK_EQUAL(argument["attempt"], 1);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::pending);
  CAF_CHECK(finish(work[0], synced));
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
  CAF_CHECK(stored("42").work_job_id.empty());
}

CAF_TEST(the same object of a synced resource is unchanged and writes nothing) {
  inform("42", "{\"name\":\"ada\"}");
  finish(take_work().at(0), synced);
  auto writes = store->resource_writes;
  CAF_CHECK_EQUAL(inform("42", "{\"name\":\"ada\"}"), "unchanged");
  CAF_CHECK_EQUAL(store->resource_writes, writes);
  CAF_CHECK_EQUAL(work_jobs(), 1u);
  CAF_CHECK_EQUAL(inform("42", "{\"name\":\"bob\"}"), "scheduled");
  CAF_CHECK_EQUAL(work_jobs(), 2u);
}

CAF_TEST(an older version is stale and never overwrites newer data) {
  inform("42", "{\"name\":\"new\"}", 7);
  CAF_CHECK_EQUAL(inform("42", "{\"name\":\"old\"}", 6), "stale");
  CAF_CHECK_EQUAL(stored("42").object_json, "{\"name\":\"new\"}");
  CAF_CHECK_EQUAL(stored("42").version, 7);
  CAF_CHECK_EQUAL(inform("42", "{\"name\":\"newer\"}", 8), "coalesced");
  CAF_CHECK_EQUAL(stored("42").version, 8);
}

CAF_TEST(informs while work is queued coalesce into its job) {
  CAF_CHECK_EQUAL(inform("42", "{\"n\":1}"), "scheduled");
  CAF_CHECK_EQUAL(inform("42", "{\"n\":2}"), "coalesced");
  CAF_CHECK_EQUAL(inform("42", "{\"n\":3}"), "coalesced");
  CAF_CHECK_EQUAL(work_jobs(), 1u);
  // The job's row keeps its first object (a coalesce writes the resource's row only)...
  CAF_CHECK_EQUAL(stored_object_n(stored("42").work_job_id), 1);
  // ...and a restart runs the job with the newest, the resource's.
  restart_cluster();
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(work[0])["object"]["n"]), 3);
}

CAF_TEST(a batch applies in one commit and coalesces repeated ids) {
  auto writes = store->resource_writes;
  auto results = ask<std::vector<inform_result>>(resource_inform_request{
      {item("1", "{\"a\":1}"), item("2", "{\"a\":2}"), item("1", "{\"a\":3}")}});
  CAF_REQUIRE_EQUAL(results.size(), 3u);
  CAF_CHECK_EQUAL(results[0].outcome, "scheduled");
  CAF_CHECK_EQUAL(results[1].outcome, "scheduled");
  CAF_CHECK_EQUAL(results[2].outcome, "coalesced");
  CAF_CHECK_EQUAL(store->resource_writes, writes + 1);
  CAF_CHECK_EQUAL(work_jobs(), 2u);
  for (auto& job : take_work())
    if (argument_of(job)["id"] == "1")
      CAF_CHECK_EQUAL(nlohmann::json(argument_of(job)["object"]["a"]), 3);
}

CAF_TEST(a queued job coalesced into twice in one step gets the newest object once) {
  CAF_CHECK_EQUAL(inform("42", "{\"n\":1}"), "scheduled");
  auto results = ask<std::vector<inform_result>>(resource_inform_request{
      {item("42", "{\"n\":2}"), item("7", "{\"n\":7}"), item("42", "{\"n\":3}")}});
  CAF_REQUIRE_EQUAL(results.size(), 3u);
  CAF_CHECK_EQUAL(results[0].outcome, "coalesced");
  CAF_CHECK_EQUAL(results[2].outcome, "coalesced");
  CAF_CHECK_EQUAL(work_jobs(), 2u);
  // Its row keeps its first object; its pool's copy has the newest.
  CAF_CHECK_EQUAL(stored_object_n(stored("42").work_job_id), 1);
  for (auto& work : take_work())
    if (argument_of(work)["id"] == "42")
      CAF_CHECK_EQUAL(nlohmann::json(argument_of(work)["object"]["n"]), 3);
}

CAF_TEST(a step commits at most one batch of 1000 so that the lease is renewed between) {
  // Batch `round` of the same 1,000 ids with new objects.
  auto batch = [](int round) {
    std::vector<resource_input> items;
    for (int i = 0; i < 1000; ++i)
      items.push_back(item(std::to_string(i), "{\"a\":" + std::to_string(round) + "}"));
    return resource_inform_request{std::move(items)};
  };
  auto writes = store->resource_writes;
  // Three batches arrive together: the first commits alone; the two that wait for it
  // must not share one commit either.
  auto first = self->request(cluster, caf::infinite, batch(1));
  auto second = self->request(cluster, caf::infinite, batch(2));
  auto third = self->request(cluster, caf::infinite, batch(3));
  run();
  for (auto* response : {&first, &second, &third})
    response->receive(
        [](std::vector<inform_result>& results) {
          CAF_CHECK_EQUAL(results.size(), 1000u);
        },
        [&](caf::error& err) { CAF_FAIL("unexpected error: " << sys.render(err)); });
  CAF_CHECK_EQUAL(store->resource_writes, writes + 3);
}

CAF_TEST(informs planned while a step commits are answered after their own commit) {
  store->hold_resource_writes = true;
  caf::scoped_actor first_caller{sys};
  caf::scoped_actor second_caller{sys};
  auto first = inform_from(first_caller, {item("42", "{\"n\":1}")});
  CAF_REQUIRE_EQUAL(store->held_resource_writes.size(), 1u);
  auto second =
      inform_from(second_caller, {item("42", "{\"n\":2}"), item("7", "{\"n\":7}")});
  // Planned on top of the first step, but not sent before that one committed.
  CAF_CHECK_EQUAL(store->held_resource_writes.size(), 1u);
  CAF_CHECK(second_caller->mailbox().empty());
  caf::anon_send(db, flush_atom::value);
  run();
  // The first step committed: its caller has the answer; the second step is sent and
  // its caller waits for its commit.
  CAF_CHECK(!first_caller->mailbox().empty());
  CAF_CHECK_EQUAL(store->held_resource_writes.size(), 1u);
  CAF_CHECK(second_caller->mailbox().empty());
  auto first_outcomes = outcomes_of(first);
  CAF_CHECK_EQUAL(first_outcomes, (std::vector<std::string>{"scheduled"}));
  store->hold_resource_writes = false;
  caf::anon_send(db, flush_atom::value);
  run();
  auto second_outcomes = outcomes_of(second);
  CAF_CHECK_EQUAL(second_outcomes, (std::vector<std::string>{"coalesced", "scheduled"}));
  // One work per resource, the newest object in it, in the pool and in the resource's
  // row (the job's row keeps its first object).
  CAF_CHECK_EQUAL(work_jobs(), 2u);
  CAF_CHECK_EQUAL(stored("42").object_json, "{\"n\":2}");
  CAF_CHECK_EQUAL(stored_object_n(stored("42").work_job_id), 1);
  auto work = take_work();
  CAF_CHECK_EQUAL(work.size(), 2u);
  for (auto& w : work)
    if (argument_of(w)["id"] == "42")
      CAF_CHECK_EQUAL(nlohmann::json(argument_of(w)["object"]["n"]), 2);
}

CAF_TEST(informs planned on a step whose commit fails are decided again) {
  store->hold_resource_writes = true;
  caf::scoped_actor first_caller{sys};
  caf::scoped_actor second_caller{sys};
  auto first = inform_from(first_caller, {item("42", "{\"n\":1}")});
  auto second = inform_from(second_caller, {item("42", "{\"n\":2}")});
  CAF_REQUIRE_EQUAL(store->held_resource_writes.size(), 1u);
  // The first step's commit fails: the second, planned to coalesce into the first
  // one's job, must not be sent nor answered as it was planned.
  store->commit_held = false;
  caf::anon_send(db, flush_atom::value);
  run();
  first.receive([](std::vector<inform_result>&) { CAF_FAIL("expected an error"); },
                [](caf::error&) {});
  CAF_CHECK(second_caller->mailbox().empty());
  CAF_CHECK(store->held_resource_writes.empty());
  CAF_CHECK_EQUAL(work_jobs(), 0u);
  // Tried again shortly, on the committed state: a resource of its own with its job.
  store->commit_held = true;
  advance_time(1s);
  CAF_REQUIRE_EQUAL(store->held_resource_writes.size(), 1u);
  CAF_CHECK(second_caller->mailbox().empty());
  store->hold_resource_writes = false;
  caf::anon_send(db, flush_atom::value);
  run();
  auto second_outcomes = outcomes_of(second);
  CAF_CHECK_EQUAL(second_outcomes, (std::vector<std::string>{"scheduled"}));
  CAF_CHECK_EQUAL(work_jobs(), 1u);
  CAF_CHECK_EQUAL(stored("42").object_json, "{\"n\":2}");
  CAF_CHECK(store->job("c1", stored("42").work_job_id) != nullptr);
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(work[0])["object"]["n"]), 2);
}

CAF_TEST(an inform planned ahead never overtakes an operation that came before it) {
  store->hold_resource_writes = true;
  caf::scoped_actor caller{sys};
  auto first = inform_from(caller, {item("1", "{\"n\":1}")});
  // While the first step commits: a change of the kind's timeout, then an inform.
  resource_kind_request put{"user", true, {}};
  put.settings.timeout_seconds = 7;
  auto change = caller->request(cluster, caf::infinite, put);
  auto second = inform_from(caller, {item("2", "{\"n\":2}")});
  store->hold_resource_writes = false;
  caf::anon_send(db, flush_atom::value);
  run();
  // The inform was decided after the change: its work has the new timeout.
  const auto* job = store->job("c1", stored("2").work_job_id);
  CAF_REQUIRE(job != nullptr);
  CAF_CHECK_EQUAL(job->timeout_seconds, 7);
  CAF_CHECK_NOT_EQUAL(store->job("c1", stored("1").work_job_id)->timeout_seconds, 7);
  outcomes_of(first);
  change.receive(
      [](resource_kind_record&) {},
      [&](caf::error& err) { CAF_FAIL("unexpected error: " << sys.render(err)); });
  auto second_outcomes = outcomes_of(second);
  CAF_CHECK_EQUAL(second_outcomes, (std::vector<std::string>{"scheduled"}));
}

CAF_TEST(informs while work runs give exactly one more work) {
  inform("42", "{\"n\":1}");
  auto first = take_work();
  CAF_REQUIRE_EQUAL(first.size(), 1u);
  CAF_CHECK_EQUAL(inform("42", "{\"n\":2}"), "scheduled");
  CAF_CHECK(stored("42").dirty);
  CAF_CHECK_EQUAL(inform("42", "{\"n\":3}"), "coalesced");
  CAF_CHECK_EQUAL(work_jobs(), 1u);
  // Never two concurrent works of one resource.
  CAF_CHECK(take_work("m2").empty());
  finish(first[0], synced);
  CAF_CHECK_EQUAL(work_jobs(), 2u);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::scheduled);
  CAF_CHECK(!stored("42").dirty);
  auto second = take_work();
  CAF_REQUIRE_EQUAL(second.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(second[0])["object"]["n"]), 3);
  finish(second[0], synced);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
  CAF_CHECK_EQUAL(work_jobs(), 2u);
}

CAF_TEST(a delete action marks the resource deleted) {
  inform("42", "{}");
  finish(take_work().at(0), "{\"action\":\"delete\"}");
  CAF_CHECK_EQUAL(stored("42").state, resource_state::deleted);
}

CAF_TEST(failures retry with backoff until degraded) {
  auto input = item("42", "{}");
  input.max_attempts = 3;
  ask<std::vector<inform_result>>(resource_inform_request{{input}});
  finish(take_work().at(0), "{\"message\":\"upstream 503\"}", result_kind::rejection);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::failed);
  CAF_CHECK_EQUAL(stored("42").attempts, 1);
  CAF_CHECK_EQUAL(
      nlohmann::json(nlohmann::json::parse(stored("42").errors_json)[0]["message"]),
      "upstream 503");
  // The first retry waits the base: not a moment less.
  advance_time(999ms);
  CAF_CHECK(take_work().empty());
  advance_time(1ms);
  auto second = take_work();
  CAF_REQUIRE_EQUAL(second.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(second[0])["attempt"]), 2);
  finish(second[0], "{\"message\":\"again\"}", result_kind::rejection);
  // Then twice that.
  advance_time(1999ms);
  CAF_CHECK(take_work().empty());
  advance_time(1ms);
  auto third = take_work();
  CAF_REQUIRE_EQUAL(third.size(), 1u);
  finish(third[0], "{\"message\":\"still\"}", result_kind::rejection);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::degraded);
  CAF_CHECK_EQUAL(stored("42").attempts, 3);
  CAF_CHECK_EQUAL(nlohmann::json::parse(stored("42").errors_json).size(), 3u);
  advance_time(60s);
  CAF_CHECK(take_work().empty());
  // A new object starts over.
  CAF_CHECK_EQUAL(inform("42", "{\"fixed\":true}"), "scheduled");
  CAF_CHECK_EQUAL(stored("42").attempts, 1);
}

CAF_TEST(a kind has its own backoff and timeout) {
  resource_kind_request put{"user", true, {}};
  put.settings.backoff_base_ms = 5000;
  put.settings.timeout_seconds = 7;
  auto effective = ask<resource_kind_record>(put);
  CAF_CHECK_EQUAL(effective.backoff_base_ms, 5000);
  CAF_CHECK_EQUAL(effective.backoff_cap_ms, 4000);
  CAF_CHECK_EQUAL(effective.timeout_seconds, 7);
  inform("42", "{}");
  CAF_CHECK_EQUAL(store->job("c1", stored("42").work_job_id)->timeout_seconds, 7);
  finish(take_work().at(0), "{\"message\":\"no\"}", result_kind::rejection);
  // The cap (the server's 4 s) is below the kind's base: the cap wins.
  advance_time(3999ms);
  CAF_CHECK(take_work().empty());
  advance_time(1ms);
  CAF_CHECK_EQUAL(take_work().size(), 1u);
  // The settings are durable.
  restart_cluster();
  auto reloaded = ask<resource_kind_record>(resource_kind_request{"user", false, {}});
  CAF_CHECK_EQUAL(reloaded.backoff_base_ms, 5000);
  CAF_CHECK_EQUAL(reloaded.timeout_seconds, 7);
}

CAF_TEST(a work whose worker goes silent fails its attempt) {
  inform("42", "{}");
  take_work();
  // The fixture's machines stall after 10 s of silence.
  advance_in_steps(10s);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::failed);
  CAF_CHECK_EQUAL(stored("42").attempts, 1);
  auto errors = nlohmann::json::parse(stored("42").errors_json);
  CAF_REQUIRE_EQUAL(errors.size(), 1u);
  CAF_CHECK_NOT_EQUAL(errors[0]["message"].get<std::string>().find("worker was lost"),
                      std::string::npos);
}

CAF_TEST(a scheduled resource and its job survive a restart) {
  inform("42", "{\"n\":1}");
  auto job_id = stored("42").work_job_id;
  restart_cluster();
  CAF_CHECK_EQUAL(inform("42", "{\"n\":2}"), "coalesced");
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(work[0].id, job_id);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(work[0])["object"]["n"]), 2);
  finish(work[0], synced);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
}

CAF_TEST(a work running when its node died is worked again) {
  inform("42", "{}");
  take_work();
  restart_cluster();
  CAF_CHECK_EQUAL(stored("42").state, resource_state::failed);
  advance_time(1s);
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  finish(work[0], synced);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
}

CAF_TEST(a result committed before a crash is applied at the restart) {
  inform("42", "{}");
  auto work = take_work().at(0);
  // The job's result is durable but the resource never heard of it.
  auto& job = store->jobs.at("c1/" + work.id);
  job.status = job_status::success;
  job.result_type = result_kind::resolution;
  job.result = resources::encode_payload(synced);
  restart_cluster();
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
}

CAF_TEST_FIXTURE_SCOPE_END()

// Namespaces (max_workers, expiry, retention), invalidate and delete.
namespace {

struct namespace_fixture : fixture {
  resource_namespace_record put_namespace(const std::string& name,
                                          std::int32_t max_workers,
                                          std::int64_t expiry_ttl = 0,
                                          std::int64_t synced_retention = 0,
                                          std::int64_t deleted_retention = 0) {
    resource_namespace_request put{name, true, {}};
    put.settings.max_workers = max_workers;
    put.settings.expiry_ttl_seconds = expiry_ttl;
    put.settings.synced_retention_seconds = synced_retention;
    put.settings.deleted_retention_seconds = deleted_retention;
    return ask<resource_namespace_record>(put);
  }

  /// Informs resources `ids` of namespace `ns` in one request.
  void inform_in(const std::string& ns, const std::vector<std::string>& ids) {
    resource_inform_request request;
    for (const auto& id : ids) {
      request.items.push_back(item(id, "{\"id\":\"" + id + "\"}"));
      request.items.back().namespace_name = ns;
    }
    for (const auto& r : ask<std::vector<inform_result>>(request))
      CAF_CHECK_EQUAL(r.outcome, "scheduled");
  }

  resource_command_result command(const std::string& id, bool remove) {
    return ask<resource_command_result>(resource_command{"user", id, remove});
  }

  /// The resources of the user kind with a work job (queued or running).
  std::size_t with_work() {
    std::size_t n = 0;
    for (const auto& [key, r] : store->resources)
      n += r.work_job_id.empty() ? 0 : 1;
    return n;
  }

  /// Informs `id` in the default namespace and has its work synced.
  void synced_resource(const std::string& id) {
    inform(id, "{}");
    auto work = take_work();
    CAF_REQUIRE_EQUAL(work.size(), 1u);
    finish(work[0], synced);
    CAF_REQUIRE_EQUAL(stored(id).state, resource_state::synced);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(resource_namespace_tests, namespace_fixture)

CAF_TEST(max_workers holds works back until a slot is free) {
  auto settings = put_namespace("limited", 2);
  CAF_CHECK_EQUAL(settings.max_workers, 2);
  inform_in("limited", {"1", "2", "3", "4", "5"});
  CAF_CHECK_EQUAL(work_jobs(), 2u);
  CAF_CHECK_EQUAL(stored("3").state, resource_state::scheduled);
  CAF_CHECK(stored("3").work_job_id.empty());
  auto first = take_work();
  CAF_REQUIRE_EQUAL(first.size(), 2u);
  CAF_CHECK(take_work("m2").empty());
  // One ends: the oldest waiting resource gets its work.
  finish(first[0], synced);
  CAF_CHECK_EQUAL(work_jobs(), 3u);
  CAF_CHECK_EQUAL(with_work(), 2u);
  CAF_CHECK(!stored("3").work_job_id.empty());
  finish(first[1], synced);
  // The waiting resources and the works are recomputed at a restart.
  restart_cluster();
  CAF_CHECK_EQUAL(with_work(), 2u);
  CAF_CHECK(stored("5").work_job_id.empty());
  auto queued = take_work();
  CAF_REQUIRE_EQUAL(queued.size(), 2u);
  finish(queued[0], synced);
  CAF_CHECK_EQUAL(with_work(), 2u);
  CAF_CHECK(!stored("5").work_job_id.empty());
  // Without a limit, every waiting resource gets its work at once.
  inform_in("limited", {"6", "7"});
  CAF_CHECK_EQUAL(with_work(), 2u);
  put_namespace("limited", 0);
  CAF_CHECK_EQUAL(with_work(), 4u);
  CAF_CHECK_EQUAL(work_jobs(), 7u);
}

CAF_TEST(other namespaces are not held back) {
  put_namespace("limited", 1);
  inform_in("limited", {"1", "2"});
  inform_in("other", {"3"});
  inform("4", "{}");
  CAF_CHECK_EQUAL(work_jobs(), 3u);
  CAF_CHECK(stored("2").work_job_id.empty());
}

CAF_TEST(a synced resource expires after the ttl and is worked again) {
  put_namespace("default", 0, 10);
  synced_resource("42");
  advance_in_steps(9s);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
  CAF_CHECK_EQUAL(work_jobs(), 1u);
  // Due at 10 s, found by the next scan (each second).
  advance_in_steps(2s);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::expired);
  CAF_CHECK_EQUAL(work_jobs(), 2u);
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(work[0])["attempt"]), 1);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::pending);
  finish(work[0], synced);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
}

CAF_TEST(retention purges deleted and synced resources and expiry comes first) {
  put_namespace("default", 0, 0, 20, 5);
  inform("1", "{}");
  finish(take_work().at(0), "{\"action\":\"delete\"}");
  synced_resource("2");
  advance_in_steps(4s);
  CAF_CHECK(store->resource("c1", "user", "1") != nullptr);
  advance_in_steps(2s);
  CAF_CHECK(store->resource("c1", "user", "1") == nullptr);
  CAF_CHECK(store->resource("c1", "user", "2") != nullptr);
  advance_in_steps(15s);
  CAF_CHECK(store->resource("c1", "user", "2") == nullptr);
  // With an expiry as well, a synced resource expires: it is never purged.
  put_namespace("default", 0, 30, 5, 5);
  synced_resource("3");
  advance_in_steps(10s);
  CAF_CHECK_EQUAL(stored("3").state, resource_state::synced);
}

CAF_TEST(invalidate expires a synced resource now) {
  CAF_CHECK_EQUAL(command("42", false).outcome, "not_found");
  inform("42", "{}");
  auto not_synced = command("42", false);
  CAF_CHECK_EQUAL(not_synced.outcome, "not_synced");
  CAF_CHECK_EQUAL(not_synced.state, "scheduled");
  finish(take_work().at(0), synced);
  auto invalidated = command("42", false);
  CAF_CHECK_EQUAL(invalidated.outcome, "invalidated");
  CAF_CHECK_EQUAL(invalidated.state, "expired");
  CAF_CHECK_EQUAL(stored("42").state, resource_state::expired);
  CAF_CHECK_EQUAL(command("42", false).outcome, "not_synced");
  // An inform of the same object coalesces into the queued work.
  CAF_CHECK_EQUAL(inform("42", "{}"), "coalesced");
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  finish(work[0], synced);
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
}

CAF_TEST(a delete during a running work is not undone by its result) {
  put_namespace("limited", 1);
  inform_in("limited", {"1", "2"});
  auto running = take_work();
  CAF_REQUIRE_EQUAL(running.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(running[0])["id"]), "1");
  CAF_CHECK_EQUAL(command("1", true).outcome, "removed");
  CAF_CHECK(store->resource("c1", "user", "1") == nullptr);
  CAF_CHECK_EQUAL(command("1", true).outcome, "not_found");
  // The removed resource's work still runs: it keeps its namespace's slot.
  CAF_CHECK(stored("2").work_job_id.empty());
  CAF_CHECK(finish(running[0], synced));
  CAF_CHECK(store->resource("c1", "user", "1") == nullptr);
  CAF_CHECK(!stored("2").work_job_id.empty());
  // Informed again, it starts over.
  resource_inform_request again{{item("1", "{}")}};
  again.items[0].namespace_name = "limited";
  auto results = ask<std::vector<inform_result>>(again);
  CAF_CHECK_EQUAL(results.at(0).outcome, "scheduled");
  CAF_CHECK_EQUAL(stored("1").attempts, 1);
}

CAF_TEST(a delete withdraws the queued work in the same commit) {
  put_namespace("limited", 1);
  inform_in("limited", {"1", "2"});
  // 1's work is queued; 2 waits for the namespace's only slot.
  auto queued = stored("1").work_job_id;
  CAF_REQUIRE(!queued.empty());
  CAF_CHECK(stored("2").work_job_id.empty());
  CAF_CHECK_EQUAL(command("1", true).outcome, "removed");
  // The job ended with the removal: no controller is given it, not even after a restart.
  const auto* job = store->job("c1", queued);
  CAF_REQUIRE(job != nullptr);
  CAF_CHECK_EQUAL(job->status, job_status::failure);
  CAF_CHECK_EQUAL(job->attempts_used, 0);
  // Its slot is free at once: 2 gets its work, the only one there is.
  CAF_CHECK(!stored("2").work_job_id.empty());
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(work[0])["id"]), "2");
  CAF_CHECK(finish(work[0], synced));
  restart_cluster();
  CAF_CHECK(take_work().empty());
  CAF_CHECK(store->resource("c1", "user", "1") == nullptr);
}

CAF_TEST(a delete before the load reached its queued work withdraws it as if loaded) {
  put_namespace("limited", 1);
  inform_in("limited", {"1", "2"});
  auto queued = stored("1").work_job_id;
  CAF_REQUIRE(!queued.empty());
  // The cluster serves again while its live jobs wait in their first page: 1's work job
  // is in Postgres, not in memory.
  store->hold_live_job_pages = true;
  restart_cluster();
  CAF_REQUIRE_EQUAL(store->held_pages.size(), 1u);
  auto removal =
      self->request(cluster, caf::infinite, resource_command{"user", "1", true});
  run();
  store->hold_live_job_pages = false;
  caf::anon_send(db, flush_atom::value);
  run();
  removal.receive(
      [](resource_command_result& result) { CAF_CHECK_EQUAL(result.outcome, "removed"); },
      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK(store->resource("c1", "user", "1") == nullptr);
  // As when the job was loaded: withdrawn, never given to a controller, its slot free.
  const auto* job = store->job("c1", queued);
  CAF_REQUIRE(job != nullptr);
  CAF_CHECK_EQUAL(job->status, job_status::failure);
  CAF_CHECK_EQUAL(job->attempts_used, 0);
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(work[0])["id"]), "2");
  CAF_CHECK(finish(work[0], synced));
  restart_cluster();
  CAF_CHECK(take_work().empty());
}

CAF_TEST(a delete that does not commit leaves the queued work in its queue) {
  inform("42", "{}");
  auto queued = stored("42").work_job_id;
  store->failing = true;
  ask_error<resource_command_result>(resource_command{"user", "42", true});
  store->failing = false;
  CAF_CHECK_EQUAL(stored("42").state, resource_state::scheduled);
  CAF_CHECK_EQUAL(store->job("c1", queued)->status, job_status::pending);
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(work[0].id, queued);
  CAF_CHECK(finish(work[0], synced));
  CAF_CHECK_EQUAL(stored("42").state, resource_state::synced);
}

CAF_TEST(a resource informed and deleted in one step gets no work job) {
  // The first inform's commit is in flight while the next two come: they form one step.
  auto first =
      self->request(cluster, caf::infinite, resource_inform_request{{item("1", "{}")}});
  auto second =
      self->request(cluster, caf::infinite, resource_inform_request{{item("42", "{}")}});
  auto removal =
      self->request(cluster, caf::infinite, resource_command{"user", "42", true});
  run();
  for (auto* informed : {&first, &second})
    informed->receive([](std::vector<inform_result>&) {},
                      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  removal.receive(
      [](resource_command_result& result) { CAF_CHECK_EQUAL(result.outcome, "removed"); },
      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK(store->resource("c1", "user", "42") == nullptr);
  CAF_CHECK_EQUAL(work_jobs(), 1u);
  auto work = take_work();
  CAF_REQUIRE_EQUAL(work.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json(argument_of(work[0])["id"]), "1");
}

CAF_TEST(a namespace keeps its settings across a restart) {
  put_namespace("limited", 3, 60, 0, 120);
  restart_cluster();
  auto got = ask<resource_namespace_record>(resource_namespace_request{"limited", false, {}});
  CAF_CHECK_EQUAL(got.max_workers, 3);
  CAF_CHECK_EQUAL(got.expiry_ttl_seconds, 60);
  CAF_CHECK_EQUAL(got.deleted_retention_seconds, 120);
  auto none = ask<resource_namespace_record>(resource_namespace_request{"other", false, {}});
  CAF_CHECK_EQUAL(none.max_workers, 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
