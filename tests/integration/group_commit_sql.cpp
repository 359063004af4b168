#define CAF_SUITE group_commit_sql

#include "http_test_helpers.hpp"
#include "persistence/migrations.hpp"
#include "persistence/sql_activity.hpp"
#include "persistence/sql_machines.hpp"
#include "persistence/sql_resources.hpp"
#include "persistence/sql_jobs.hpp"
#include "persistence/write_batch.hpp"
#include "persistence/write_plans.hpp"

#include <caf/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <set>

using namespace diffplane;
using namespace diffplane::testing;

namespace {

// Values that an SQL literal, an array literal or a CSV-like encoding could get wrong.
const std::vector<std::string> awkward_values{
    R"(quote " and backslash \ and \" both)",
    "{braces},commas, and spaces ",
    "NULL",
    "'single' quotes; DROP TABLE jobs; --",
    "ünïcödé ✓ and a tab\tand a newline\n",
    "",
};

struct fixture {
  std::string url = create_test_database();
  pqxx::connection connection{url};

  fixture() {
    persistence::apply_migrations(connection);
    persistence::write_batch batch;
    batch.add(cluster_record{"c1", "sk_c1", "", 1700000000000, false, false});
    commit(batch);
  }

  std::vector<persistence::write_outcome> commit(const persistence::write_batch& batch) {
    pqxx::work txn{connection};
    auto outcomes = batch.execute(txn);
    txn.commit();
    return outcomes;
  }

  /// Live jobs as a restart loads them; checks that both ways of reading agree.
  std::vector<job_record> live_jobs() {
    pqxx::work txn{connection};
    auto looked_up = persistence::sql::load_live_jobs(txn, "c1");
    auto side_by_side = persistence::sql::load_live_jobs(txn, "c1", 0);
    CAF_CHECK_EQUAL(ids_of(looked_up), ids_of(side_by_side));
    return looked_up;
  }

  static std::vector<std::string> ids_of(const std::vector<job_record>& jobs) {
    std::vector<std::string> ids;
    for (const auto& j : jobs)
      ids.push_back(j.id);
    return ids;
  }

  /// Commits the batch as the persistence actor does when it is one statement: outside
  /// a transaction.
  std::vector<persistence::write_outcome>
  commit_alone(const persistence::write_batch& batch) {
    CAF_REQUIRE(batch.one_statement());
    pqxx::nontransaction txn{connection};
    return batch.execute(txn);
  }

  std::vector<job_record> job(const std::string& id) {
    pqxx::work txn{connection};
    return persistence::sql::fetch_job(txn, "c1", id);
  }
};

job_record job_with(const std::string& id, const std::string& text,
                    timestamp_ms created) {
  job_record j;
  j.cluster_id = "c1";
  j.id = id;
  j.service = "svc " + text;
  j.target_fn = "fn " + text;
  j.target_args = text;
  j.cache_key = text;
  j.created_at = created;
  j.revision = 1;
  return j;
}

/// A state write as a worker's attempt makes it; a success carries `result`.
job_state_write state_write(const std::string& id, job_status status,
                            std::int64_t revision, const std::string& result = "done") {
  job_state_write w;
  w.cluster_id = "c1";
  w.id = id;
  w.status = status;
  w.revision = revision;
  w.attempts_used = 1;
  w.executing_machine_id = "m \"1\"";
  w.last_dispatched_at = 1700000000100;
  if (status == job_status::success) {
    w.result_type = result_kind::resolution;
    w.result = result;
    w.function_execution_time_ms = 7;
    w.resulted_at = 1700000000200;
  }
  return w;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(group_commit_sql_tests, fixture)

CAF_TEST(both inserts store every value byte for byte) {
  persistence::write_batch batch;
  for (int round = 0; round < 2; ++round)
    for (std::size_t i = 0; i < awkward_values.size(); ++i) {
      // Round 0 has generated ids (write_jobs), round 1 chosen ones (ON CONFLICT).
      auto job =
          job_with("job-" + std::to_string(round) + "-" + std::to_string(i),
                   awkward_values[i], 1700000000000 + static_cast<timestamp_ms>(i));
      job.id_generated = round == 0;
      job.max_attempts = 3 + static_cast<std::int32_t>(i);
      job.background = i % 2 == 1;
      batch.add(job);
    }
  auto outcomes = commit(batch);
  CAF_REQUIRE_EQUAL(outcomes.size(), 2 * awkward_values.size());
  for (const auto& outcome : outcomes)
    CAF_CHECK(outcome.inserted);
  CAF_REQUIRE_EQUAL(live_jobs().size(), 2 * awkward_values.size());
  for (int round = 0; round < 2; ++round)
    for (std::size_t i = 0; i < awkward_values.size(); ++i) {
      auto found = job("job-" + std::to_string(round) + "-" + std::to_string(i));
      CAF_REQUIRE_EQUAL(found.size(), 1u);
      const auto& j = found.front();
      std::string args = j.target_args;
      std::string key = j.cache_key;
      std::string service = j.service;
      CAF_CHECK_EQUAL(args, awkward_values[i]);
      // An empty cache key is stored as NULL ("not cached") and reads back empty.
      CAF_CHECK_EQUAL(key, awkward_values[i]);
      CAF_CHECK_EQUAL(service, "svc " + awkward_values[i]);
      CAF_CHECK_EQUAL(j.created_at, 1700000000000 + static_cast<timestamp_ms>(i));
      CAF_CHECK_EQUAL(j.max_attempts, 3 + static_cast<std::int32_t>(i));
      CAF_CHECK_EQUAL(j.background, i % 2 == 1);
      CAF_CHECK(j.status == job_status::pending);
      CAF_CHECK(j.result_type == result_kind::none);
      CAF_CHECK_EQUAL(j.revision, 1);
      CAF_CHECK_EQUAL(j.function_execution_time_ms, -1);
      CAF_CHECK_EQUAL(j.last_dispatched_at, 0);
      CAF_CHECK_EQUAL(j.resulted_at, 0);
    }
}

CAF_TEST(an insert of an existing id reports not inserted and keeps the row) {
  persistence::write_batch first;
  first.add(job_with("same", "first", 1700000000000));
  commit(first);
  persistence::write_batch second;
  second.add(job_with("same", "second", 1700000000001));
  second.add(job_with("other", "other", 1700000000002));
  auto outcomes = commit(second);
  CAF_CHECK(!outcomes[0].inserted);
  CAF_CHECK(outcomes[1].inserted);
  std::string args = job("same").at(0).target_args;
  CAF_CHECK_EQUAL(args, "first");
}

CAF_TEST(generated and chosen ids share a batch and both become live) {
  persistence::write_batch batch;
  auto generated = job_with("generated", "g", 1700000000000);
  generated.id_generated = true;
  batch.add(generated);
  batch.add(job_with("chosen", "c", 1700000000001));
  auto outcomes = commit(batch);
  CAF_CHECK(outcomes[0].inserted);
  CAF_CHECK(outcomes[1].inserted);
  CAF_CHECK_EQUAL(ids_of(live_jobs()), (std::vector<std::string>{"generated", "chosen"}));
}

CAF_TEST(
    a generated job without a creation time gets one and leaves live_jobs when done) {
  persistence::write_batch insert;
  auto job = job_with("undated", "x", 0);
  job.id_generated = true;
  insert.add(job);
  commit(insert);
  auto stored = this->job("undated");
  CAF_REQUIRE_EQUAL(stored.size(), 1u);
  CAF_CHECK_GREATER(stored.front().created_at, 1700000000000);
  CAF_CHECK_EQUAL(ids_of(live_jobs()), std::vector<std::string>{"undated"});
  job_state_write done;
  done.cluster_id = "c1";
  done.id = "undated";
  done.status = job_status::success;
  done.result_type = result_kind::resolution;
  done.resulted_at = stored.front().created_at + 1;
  done.revision = 2;
  persistence::write_batch finish;
  finish.add(done);
  commit(finish);
  CAF_CHECK(live_jobs().empty());
}

CAF_TEST(a generated id that exists fails its batch instead of being skipped) {
  persistence::write_batch first;
  first.add(job_with("same", "first", 1700000000000));
  commit(first);
  persistence::write_batch second;
  auto repeated = job_with("same", "second", 1700000000001);
  repeated.id_generated = true;
  second.add(repeated);
  // The persistence actor then retries the batch's writes one by one and fails this one.
  bool refused = false;
  try {
    commit(second);
  } catch (const pqxx::unique_violation&) {
    refused = true;
  }
  CAF_CHECK(refused);
  std::string args = job("same").at(0).target_args;
  CAF_CHECK_EQUAL(args, "first");
}

CAF_TEST(state writes land in revision order with results byte for byte) {
  persistence::write_batch insert;
  insert.add(job_with("j", "args", 1700000000000));
  commit(insert);
  auto state = [](std::int64_t revision, job_status status, const std::string& result) {
    return state_write("j", status, revision, result);
  };
  for (const auto& value : awkward_values) {
    persistence::write_batch done;
    done.add(state(3, job_status::success, value));
    commit(done);
    // An older revision arriving later changes nothing.
    persistence::write_batch late;
    late.add(state(2, job_status::running, {}));
    commit(late);
    auto row = job("j").at(0);
    std::string result = row.result;
    std::string machine = row.executing_machine_id;
    CAF_CHECK_EQUAL(result, value);
    CAF_CHECK_EQUAL(machine, "m \"1\"");
    CAF_CHECK(row.status == job_status::success);
    CAF_CHECK(row.result_type == result_kind::resolution);
    CAF_CHECK_EQUAL(row.function_execution_time_ms, 7);
    CAF_CHECK_EQUAL(row.last_dispatched_at, 1700000000100);
    CAF_CHECK_EQUAL(row.resulted_at, 1700000000200);
    // Next value: start again from a lower stored revision.
    pqxx::work txn{connection};
    txn.exec("UPDATE jobs SET revision = 1 WHERE id = 'j'");
    txn.commit();
  }
}

CAF_TEST(a job is loaded on restart until its final state lands) {
  persistence::write_batch insert;
  for (const auto* id : {"a-stalls", "b-succeeds", "c-fails", "d-stays-pending"}) {
    auto job = job_with(id, "x", 1700000000000);
    // Both ways of inserting: generated ids for the first two, chosen ones after.
    job.id_generated = id[0] < 'c';
    insert.add(job);
  }
  // A job inserted already finished (a cache hit) is never live.
  auto cached = job_with("e-cached", "x", 1700000000000);
  cached.id_generated = true;
  cached.status = job_status::success;
  cached.result_type = result_kind::resolution;
  cached.resulted_at = 1700000000000;
  insert.add(cached);
  commit(insert);
  // All of them are moved to live_jobs but the one already finished.
  persistence::write_batch move;
  move.add(live_jobs_move{"c1", 1700000000001});
  commit(move);
  auto write = [](const std::string& id, job_status status, std::int64_t revision) {
    job_state_write w;
    w.cluster_id = "c1";
    w.id = id;
    w.status = status;
    w.revision = revision;
    if (status == job_status::success) {
      w.result_type = result_kind::resolution;
      w.resulted_at = 1700000000500;
    }
    return w;
  };
  persistence::write_batch running;
  for (const auto* id : {"a-stalls", "b-succeeds", "c-fails"})
    running.add(write(id, job_status::running, 2));
  commit(running);
  persistence::write_batch ends;
  ends.add(write("a-stalls", job_status::stalled, 3));
  ends.add(write("b-succeeds", job_status::success, 3));
  ends.add(write("c-fails", job_status::failure, 3));
  commit(ends);
  // A stale write for a finished job changes nothing, and does not bring it back.
  persistence::write_batch stale;
  stale.add(write("b-succeeds", job_status::running, 2));
  commit(stale);

  CAF_CHECK_EQUAL(ids_of(live_jobs()),
                  (std::vector<std::string>{"a-stalls", "d-stays-pending"}));
  pqxx::work txn{connection};
  CAF_CHECK_EQUAL(txn.exec("SELECT count(*) FROM live_jobs")[0][0].as<int>(), 2);
}

CAF_TEST(a job and its state writes in one batch land as its newest state) {
  persistence::write_batch batch;
  for (bool generated : {true, false}) {
    std::string prefix = generated ? "generated-" : "chosen-";
    for (const auto* name : {"finishes", "runs", "ignores-old"}) {
      auto job = job_with(prefix + name, "x", 1700000000000);
      job.id_generated = generated;
      job.revision = 2;
      batch.add(job);
    }
    batch.add(state_write(prefix + "finishes", job_status::running, 3));
    batch.add(state_write(prefix + "finishes", job_status::success, 4));
    batch.add(state_write(prefix + "runs", job_status::running, 3));
    batch.add(state_write(prefix + "ignores-old", job_status::running, 1));
  }
  auto outcomes = commit(batch);
  for (auto i : {0, 1, 2, 7, 8, 9})
    CAF_CHECK(outcomes[i].inserted);
  for (bool generated : {true, false}) {
    std::string prefix = generated ? "generated-" : "chosen-";
    auto finished = job(prefix + "finishes").at(0);
    std::string result = finished.result;
    CAF_CHECK(finished.status == job_status::success);
    CAF_CHECK_EQUAL(result, "done");
    CAF_CHECK_EQUAL(finished.revision, 4);
    CAF_CHECK_EQUAL(finished.function_execution_time_ms, 7);
    CAF_CHECK_EQUAL(finished.resulted_at, 1700000000200);
    auto running = job(prefix + "runs").at(0);
    std::string machine = running.executing_machine_id;
    CAF_CHECK(running.status == job_status::running);
    CAF_CHECK_EQUAL(machine, "m \"1\"");
    CAF_CHECK_EQUAL(running.last_dispatched_at, 1700000000100);
    auto untouched = job(prefix + "ignores-old").at(0);
    CAF_CHECK(untouched.status == job_status::pending);
    CAF_CHECK_EQUAL(untouched.revision, 2);
  }
  // Same creation time: in id order.
  CAF_CHECK_EQUAL(ids_of(live_jobs()),
                  (std::vector<std::string>{"chosen-ignores-old", "chosen-runs",
                                            "generated-ignores-old", "generated-runs"}));
}

CAF_TEST(only generated inserts and state writes make a batch of one statement) {
  auto generated = job_with("generated", "g", 1700000000000);
  generated.id_generated = true;
  job_state_write running;
  running.cluster_id = "c1";
  running.id = "earlier";
  running.status = job_status::running;
  running.revision = 2;
  persistence::write_batch earlier;
  earlier.add(job_with("earlier", "e", 1700000000000));
  CAF_CHECK(!earlier.one_statement());
  commit(earlier);

  persistence::write_batch batch;
  CAF_CHECK(batch.one_statement());
  batch.add(generated);
  batch.add(running);
  CAF_REQUIRE(batch.one_statement());
  commit_alone(batch);
  // Committed without a transaction around it: another session sees both writes.
  pqxx::connection other{url};
  pqxx::work txn{other};
  // as<std::string>(): c_str() would point into a result that is gone by the comparison.
  CAF_CHECK_EQUAL(
      txn.exec("SELECT status FROM jobs WHERE id = 'earlier'")[0][0].as<std::string>(),
      "running");
  CAF_CHECK_EQUAL(txn.exec("SELECT count(*) FROM jobs")[0][0].as<int>(), 2);
  // A job enters live_jobs only when its cluster moves it there.
  CAF_CHECK_EQUAL(txn.exec("SELECT count(*) FROM live_jobs")[0][0].as<int>(), 0);

  auto with_move = batch;
  with_move.add(live_jobs_move{"c1", 1700000000001});
  CAF_CHECK(!with_move.one_statement());
  auto with_chosen = batch;
  with_chosen.add(job_with("chosen", "c", 1700000000000));
  CAF_CHECK(!with_chosen.one_statement());
  auto with_events = batch;
  with_events.add(std::vector<event_record>{});
  CAF_CHECK(!with_events.one_statement());
  auto with_machine = batch;
  with_machine.add(machine_record{});
  CAF_CHECK(!with_machine.one_statement());
}

CAF_TEST(a session planning for writes finds each job row through its key) {
  persistence::plan_for_writes(connection);
  persistence::write_plan_refresh plans{std::chrono::hours{1}};
  plans.reset(std::chrono::steady_clock::now());
  auto write_job = [this](const std::string& id) {
    auto generated = job_with(id, "g", 1700000000000);
    generated.id_generated = true;
    persistence::write_batch batch;
    batch.add(generated);
    commit_alone(batch);
  };
  // Its plan for the job write is made on a young table, where any index on cluster_id
  // fits; then the table grows and the plans are made again when due.
  write_job("young");
  {
    pqxx::nontransaction txn{connection};
    txn.exec("INSERT INTO jobs (cluster_id, id, service, target_fn, target_args, status, "
             "max_attempts, timeout_seconds) SELECT 'c1', 'seed-' || g, 'svc', 'fn', '', "
             "'pending', 1, 60 FROM generate_series(1, 5000) AS g");
  }
  plans.before_use(connection, std::chrono::steady_clock::now() + std::chrono::hours{2});
  write_job("grown");
  // The plan it keeps for the job write, whatever the batch: made once, for any values.
  std::string plan;
  {
    pqxx::nontransaction txn{connection};
    auto parameters =
        txn.exec("SELECT cardinality(parameter_types) FROM pg_prepared_statements "
                 "WHERE name = 'diffplane_write_jobs'");
    CAF_REQUIRE_EQUAL(parameters.size(), 1u);
    std::string call = "EXPLAIN EXECUTE diffplane_write_jobs(";
    for (int i = 0; i < parameters[0][0].as<int>(); ++i)
      call += i == 0 ? "'{}'" : ", '{}'";
    for (const auto& row : txn.exec(call + ")"))
      plan += row[0].as<std::string>() + "\n";
  }
  CAF_MESSAGE(plan);
  CAF_CHECK(plan.find("Index Scan using jobs_pkey") != std::string::npos);
  CAF_CHECK(plan.find("Index Scan using live_jobs_pkey") != std::string::npos);
  // Only jobs created before the clusters' live_jobs_before are looked up in live_jobs:
  // the boundary is read once (an InitPlan) and filters the updated rows first.
  CAF_CHECK(plan.find("InitPlan") != std::string::npos);
  CAF_CHECK(plan.find("created_at < $") != std::string::npos);
  CAF_CHECK(plan.find("Seq Scan") == std::string::npos);
  CAF_CHECK(plan.find("Hash") == std::string::npos);
  // A read transaction plans as usual, and the session goes on planning for writes.
  auto setting = [](pqxx::transaction_base& t, const char* name) {
    return t.exec(std::string{"SHOW "} + name)[0][0].as<std::string>();
  };
  {
    pqxx::work read{connection};
    read.exec(persistence::plan_for_reads);
    CAF_CHECK_EQUAL(setting(read, "plan_cache_mode"), "force_custom_plan");
    CAF_CHECK_EQUAL(setting(read, "enable_hashjoin"), "on");
    read.commit();
  }
  pqxx::nontransaction after{connection};
  CAF_CHECK_EQUAL(setting(after, "plan_cache_mode"), "force_generic_plan");
  CAF_CHECK_EQUAL(setting(after, "enable_hashjoin"), "off");
}

CAF_TEST(live jobs are found on restart whether moved to live_jobs or not ) {
  persistence::write_batch insert;
  auto add = [&](const std::string& id, timestamp_ms created, job_status status) {
    auto job = job_with(id, "x", created);
    job.id_generated = id[0] < 'c';
    job.status = status;
    if (is_terminal(status)) {
      job.result_type = result_kind::resolution;
      job.resulted_at = created;
    }
    insert.add(job);
  };
  add("a-old-pending", 1700000000100, job_status::pending);
  add("b-old-done", 1700000000200, job_status::success);
  add("c-old-running", 1700000000300, job_status::running);
  add("d-young-pending", 1700000000400, job_status::pending);
  commit(insert);
  auto moved_ids = [&] {
    pqxx::work txn{connection};
    std::vector<std::string> ids;
    for (const auto& row : txn.exec("SELECT id FROM live_jobs ORDER BY created_at"))
      ids.push_back(row[0].as<std::string>());
    return ids;
  };
  auto boundary = [&] {
    pqxx::work txn{connection};
    return persistence::sql::live_jobs_before(txn, "c1");
  };
  const std::vector<std::string> all_live{"a-old-pending", "c-old-running",
                                          "d-young-pending"};
  CAF_CHECK_EQUAL(boundary(), 1700000000000);
  CAF_CHECK(moved_ids().empty());
  CAF_CHECK_EQUAL(ids_of(live_jobs()), all_live);

  persistence::write_batch first_move;
  first_move.add(live_jobs_move{"c1", 1700000000350});
  commit(first_move);
  CAF_CHECK_EQUAL(boundary(), 1700000000350);
  CAF_CHECK_EQUAL(moved_ids(),
                  (std::vector<std::string>{"a-old-pending", "c-old-running"}));
  CAF_CHECK_EQUAL(ids_of(live_jobs()), all_live);

  // A move that does not advance the boundary (a clock set back) changes nothing.
  persistence::write_batch backwards;
  backwards.add(live_jobs_move{"c1", 1700000000500 - 1000});
  commit(backwards);
  CAF_CHECK_EQUAL(boundary(), 1700000000350);

  // A moved job leaves live_jobs with its final state; the next move takes the rest.
  persistence::write_batch finish_and_move;
  finish_and_move.add(state_write("c-old-running", job_status::success, 2));
  finish_and_move.add(live_jobs_move{"c1", 1700000000500});
  commit(finish_and_move);
  CAF_CHECK_EQUAL(moved_ids(),
                  (std::vector<std::string>{"a-old-pending", "d-young-pending"}));
  CAF_CHECK_EQUAL(ids_of(live_jobs()),
                  (std::vector<std::string>{"a-old-pending", "d-young-pending"}));
}

CAF_TEST(statuses are fetched for a list of awkward ids) {
  persistence::write_batch batch;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i + 1 < awkward_values.size(); ++i) {
    ids.push_back("id " + awkward_values[i]);
    batch.add(job_with(ids.back(), "x", 1700000000000));
  }
  commit(batch);
  ids.push_back("unknown");
  pqxx::work txn{connection};
  auto rows = persistence::sql::fetch_job_statuses(txn, "c1", ids);
  CAF_CHECK_EQUAL(rows.size(), ids.size() - 1);
}

CAF_TEST(the latest resolution of a cache key within the ttl is found) {
  // Three resolutions of one key (an hour apart), a rejection after them, and the same
  // key under another function.
  persistence::write_batch batch;
  const timestamp_ms hour = 3600 * 1000;
  auto resolved = [&](const std::string& id, const std::string& fn, timestamp_ms at,
                      result_kind type) {
    auto j = job_with(id, "x", at);
    j.target_fn = fn;
    j.cache_key = "k";
    j.status = job_status::success;
    j.result_type = type;
    j.resulted_at = at;
    batch.add(j);
  };
  const timestamp_ms t0 = 1700000000000;
  resolved("old", "fn", t0, result_kind::resolution);
  resolved("mid", "fn", t0 + hour, result_kind::resolution);
  resolved("new", "fn", t0 + 2 * hour, result_kind::resolution);
  resolved("rejected", "fn", t0 + 3 * hour, result_kind::rejection);
  resolved("other-fn", "g", t0 + 4 * hour, result_kind::resolution);
  commit(batch);
  auto find = [&](timestamp_ms since) {
    pqxx::work txn{connection};
    auto found = persistence::sql::find_cached_resolution(
        txn, cached_resolution_query{"c1", "svc x", "fn", "k", since});
    return found.empty() ? std::string{"none"}
                         : found.front().job_id + "@" +
                               std::to_string(found.front().resulted_at - t0);
  };
  CAF_CHECK_EQUAL(find(t0 - hour), "new@" + std::to_string(2 * hour));
  CAF_CHECK_EQUAL(find(t0 + 2 * hour), "none"); // strictly after `since`
  CAF_CHECK_EQUAL(find(t0 + 5 * hour), "none");
  pqxx::work txn{connection};
  CAF_CHECK(persistence::sql::find_cached_resolution(
                txn, cached_resolution_query{"c2", "svc x", "fn", "k", 0})
                .empty());
}

CAF_TEST(pruning deletes the machines silent past the retention only) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  const timestamp_ms hour = 3600 * 1000;
  persistence::write_batch batch;
  batch.add(machine_record{"c1", "gone", "svc", "10.0.0.1", "", now - 25 * hour});
  batch.add(machine_record{"c1", "quiet", "svc", "10.0.0.2", "", now - 23 * hour});
  batch.add(machine_record{"c1", "busy", "svc", "10.0.0.3", "", now});
  commit(batch);
  pqxx::work txn{connection};
  CAF_CHECK_EQUAL(persistence::sql::prune_machines(txn, 24), 1);
  std::set<std::string> left;
  for (const auto& m : persistence::sql::load_machines(txn, "c1"))
    left.insert(m.id);
  CAF_CHECK(left == (std::set<std::string>{"busy", "quiet"}));
}

CAF_TEST(a resource write lands over older revisions only and inserts missing rows) {
  auto record = [](const std::string& id, std::int64_t revision, const std::string& object) {
    resource_record r;
    r.cluster_id = "c1";
    r.kind = "user";
    r.id = id;
    r.object_json = object;
    r.hash = "h" + object;
    r.revision = revision;
    return r;
  };
  auto write = [&](std::vector<resource_record> rows) {
    std::vector<const resource_record*> pointers;
    for (const auto& r : rows)
      pointers.push_back(&r);
    pqxx::work txn{connection};
    persistence::sql::write_resources(txn, pointers);
    txn.commit();
  };
  auto stored = [&](const std::string& id) {
    pqxx::work txn{connection};
    auto rows = txn.exec_params("SELECT object::text || ' @' || revision FROM resources "
                                "WHERE cluster_id = 'c1' AND kind = 'user' AND "
                                "object_id = $1",
                                id);
    return rows.empty() ? std::string{"none"} : rows[0][0].as<std::string>();
  };
  // A changed row (revision 2 on) is updated; one that is not there is inserted, like a
  // new one.
  write({record("a", 5, R"({"n":1})"), record("b", 1, R"({"n":1})")});
  CAF_CHECK_EQUAL(stored("a"), R"({"n": 1} @5)");
  CAF_CHECK_EQUAL(stored("b"), R"({"n": 1} @1)");
  write({record("a", 7, R"({"n":2})"), record("b", 6, R"({"n":2})"),
         record("c", 3, R"({"n":3})")});
  CAF_CHECK_EQUAL(stored("a"), R"({"n": 2} @7)");
  CAF_CHECK_EQUAL(stored("b"), R"({"n": 2} @6)");
  CAF_CHECK_EQUAL(stored("c"), R"({"n": 3} @3)");
  // An older revision changes nothing.
  write({record("a", 6, R"({"n":9})"), record("b", 1, R"({"n":9})")});
  CAF_CHECK_EQUAL(stored("a"), R"({"n": 2} @7)");
  CAF_CHECK_EQUAL(stored("b"), R"({"n": 2} @6)");
}

CAF_TEST_FIXTURE_SCOPE_END()
