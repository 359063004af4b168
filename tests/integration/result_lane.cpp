#define CAF_SUITE result_lane

#include "persistence/sql_jobs.hpp"
#include "writer_fixture.hpp"

#include <future>
#include <thread>

// The node's writer with its result lane (result_lane.hpp) on a real database: final job
// states commit on a connection of their own, so a job's insert does not wait for an
// earlier job's result, and what must follow those results (a read, the drain before a
// lease goes, a live_jobs move) still does.

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

constexpr auto hold = 500ms;

/// What a request got: an answer (with `inserted` for a job insert) or an error.
struct answer {
  bool done = false;
  bool inserted = false;
  std::string error;
};

struct fixture : testing::writer_fixture {
  fixture() : writer_fixture(hold, true) {}

  /// Sends `msg` to the writer from a thread of its own, so that the test can wait for
  /// the answer with a time limit (the deterministic clock times no request).
  template <class Reply, class Message> std::future<answer> ask_async(Message msg) {
    return std::async(std::launch::async, [this, msg] {
      caf::scoped_actor asker{sys};
      answer result;
      asker->request(writer, caf::infinite, msg)
          .receive(
              [&](Reply reply) {
                result.done = true;
                if constexpr (std::is_same_v<Reply, bool>)
                  result.inserted = reply;
              },
              [&](caf::error& e) { result.error = to_string(e); });
      return result;
    });
  }

  /// A connection of the test's own that locks the row of job `id` until it ends its
  /// transaction: a write of that row waits as long.
  struct row_lock {
    pqxx::connection connection;
    pqxx::work txn{connection};
    row_lock(const std::string& url, const std::string& id) : connection{url} {
      txn.exec_params("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", id);
    }
    void release() { txn.abort(); }
  };

  /// Waits until a session of the test's database waits for a lock (a write that a
  /// row_lock holds back is inside Postgres, its statement begun).
  void await_lock_waiter() {
    pqxx::connection connection{url};
    auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      pqxx::nontransaction txn{connection};
      auto waiting = txn.exec("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                              "current_database() AND wait_event_type = 'Lock'")[0][0]
                         .as<int>();
      if (waiting > 0)
        return;
      if (std::chrono::steady_clock::now() > deadline)
        CAF_FAIL("no write came to wait for the lock");
      std::this_thread::sleep_for(10ms);
    }
  }

  /// The transaction that wrote the current row of job `id` (its xmin).
  std::string writing_transaction(const std::string& id) {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    return txn.exec_params("SELECT xmin::text FROM jobs WHERE id = $1", id)[0][0]
        .as<std::string>();
  }

  std::int64_t revision_in_database(const std::string& id) {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    return txn.exec_params("SELECT revision FROM jobs WHERE id = $1", id)[0][0]
        .as<std::int64_t>();
  }

  std::vector<std::string> live_jobs_rows() {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    std::vector<std::string> ids;
    for (const auto& row : txn.exec("SELECT id FROM live_jobs ORDER BY id"))
      ids.push_back(row[0].as<std::string>());
    return ids;
  }
};

job_state_write result_of(const std::string& id) {
  auto w = testing::writer_fixture::dispatch_of(id);
  w.status = job_status::success;
  w.result_type = result_kind::resolution;
  w.result = "done";
  w.resulted_at = 1700000000100;
  w.revision = 3;
  return w;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(result_lane_tests, fixture)

CAF_TEST(an insert commits while an earlier result waits for its locked row) {
  insert("slow");
  row_lock lock{url, "slow"};
  // The result is sent first; its update waits for the lock.
  auto result = self->request(writer, caf::infinite, result_of("slow"));
  await_lock_waiter();
  auto next = ask_async<bool>(job("next"));
  auto committed = next.wait_for(10s) == std::future_status::ready;
  CAF_CHECK(committed);
  if (committed) {
    auto got = next.get();
    CAF_CHECK(got.done && got.inserted);
    CAF_CHECK_EQUAL(status_in_database("next"), "pending");
  }
  // Answered after its commit only, which the lock still holds back.
  CAF_CHECK_EQUAL(status_in_database("slow"), "pending");
  lock.release();
  CAF_CHECK(answered_done(result, "result write"));
  CAF_CHECK_EQUAL(status_in_database("slow"), "success");
}

CAF_TEST(a busy writer keeps a result in one commit with the writes queued behind it) {
  insert("busy");
  insert("other");
  // The writer's own commit waits for the lock; a result and an insert queue meanwhile.
  row_lock lock{url, "busy"};
  auto stall = dispatch_of("busy");
  stall.status = job_status::stalled;
  auto stalled = self->request(writer, caf::infinite, stall);
  await_lock_waiter();
  auto result = self->request(writer, caf::infinite, result_of("other"));
  auto created = self->request(writer, caf::infinite, job("next"));
  lock.release();
  CAF_CHECK(answered_done(stalled, "stalled write"));
  CAF_CHECK(answered_done(result, "result write"));
  created.receive([](bool inserted) { CAF_CHECK(inserted); },
                  [](caf::error& e) { CAF_FAIL("insert failed: " << to_string(e)); });
  // One transaction wrote both rows; the lane would have written the result in its own.
  CAF_CHECK_EQUAL(status_in_database("other"), "success");
  CAF_CHECK_EQUAL(writing_transaction("other"), writing_transaction("next"));
}

CAF_TEST(a ping answers only after the results sent before it committed) {
  // The node drains the writer with a ping before it releases a lease or stops.
  insert("slow");
  row_lock lock{url, "slow"};
  auto result = self->request(writer, caf::infinite, result_of("slow"));
  await_lock_waiter();
  auto ping = ask_async<done_atom>(ping_atom::value);
  CAF_CHECK(ping.wait_for(500ms) == std::future_status::timeout);
  lock.release();
  CAF_REQUIRE(ping.wait_for(10s) == std::future_status::ready);
  CAF_CHECK(ping.get().done);
  CAF_CHECK(answered_done(result, "result write"));
  CAF_CHECK_EQUAL(status_in_database("slow"), "success");
}

CAF_TEST(a live jobs move waits for the results sent before it and moves no finished job) {
  self->request(writer, caf::infinite, cluster_record{"c1", "sk_c1", "", 0, false, false})
      .receive([](done_atom) {},
               [](caf::error& e) { CAF_FAIL("cluster insert failed: " << to_string(e)); });
  insert("finishing");
  insert("staying");
  row_lock lock{url, "finishing"};
  auto result = self->request(writer, caf::infinite, result_of("finishing"));
  // The result's statement has begun: its delete of the job's live_jobs row reads the
  // rows committed before it began.
  await_lock_waiter();
  // Every job created so far falls before the boundary.
  auto boundary = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch() + 1h)
                      .count();
  auto move = ask_async<done_atom>(live_jobs_move{"c1", boundary});
  // Moved beside the result, the job would enter live_jobs from a snapshot that sees
  // it live, after the result's delete of its live_jobs row looked: a row left behind.
  CAF_CHECK(move.wait_for(500ms) == std::future_status::timeout);
  lock.release();
  CAF_REQUIRE(move.wait_for(10s) == std::future_status::ready);
  CAF_CHECK(move.get().done);
  CAF_CHECK(answered_done(result, "result write"));
  auto rows = live_jobs_rows();
  CAF_CHECK_EQUAL(rows, std::vector<std::string>{"staying"});
}

CAF_TEST(a result supersedes the held dispatch which is never written over it) {
  insert("fast");
  auto held = self->request(writer, caf::infinite, dispatch_of("fast"));
  auto result = self->request(writer, caf::infinite, result_of("fast"));
  CAF_CHECK(answered_done(result, "result write"));
  CAF_CHECK(answered_done(held, "dispatch write"));
  CAF_CHECK_EQUAL(status_in_database("fast"), "success");
  CAF_CHECK_EQUAL(revision_in_database("fast"), 3);
  // The hold's timer fires into an empty hold: nothing lands after the result.
  CAF_CHECK_EQUAL(sched.clock().advance_time(hold), 1u);
  insert("after");
  CAF_CHECK_EQUAL(status_in_database("fast"), "success");
  CAF_CHECK_EQUAL(revision_in_database("fast"), 3);
}

CAF_TEST(a result sent right after its insert and dispatch lands over them) {
  // Sent without waiting: the insert may still be in the writer's open batch, the
  // dispatch released into it by a read, when the result comes.
  for (int round = 0; round < 20; ++round) {
    auto id = "quick-" + std::to_string(round);
    auto created = self->request(writer, caf::infinite, job(id));
    auto dispatched = self->request(writer, caf::infinite, dispatch_of(id));
    if (round % 2 == 1)
      caf::anon_send(writer, ping_atom::value);
    auto result = self->request(writer, caf::infinite, result_of(id));
    created.receive([](bool inserted) { CAF_CHECK(inserted); },
                    [](caf::error& e) { CAF_FAIL("insert failed: " << to_string(e)); });
    CAF_CHECK(answered_done(dispatched, "dispatch write"));
    CAF_CHECK(answered_done(result, "result write"));
    CAF_CHECK_EQUAL(status_in_database(id), "success");
  }
}

CAF_TEST(a live_jobs row left for a finished job brings it back on no load) {
  // Belt and braces for the move above: should a finished job keep its row in live_jobs
  // (a move and its final state on two connections), a load still skips it.
  self->request(writer, caf::infinite, cluster_record{"c1", "sk_c1", "", 0, false, false})
      .receive([](done_atom) {},
               [](caf::error& e) { CAF_FAIL("cluster insert failed: " << to_string(e)); });
  insert("done");
  insert("live");
  auto boundary = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch() + 1h)
                      .count();
  auto move = self->request(writer, caf::infinite, live_jobs_move{"c1", boundary});
  CAF_CHECK(answered_done(move, "move"));
  auto result = self->request(writer, caf::infinite, result_of("done"));
  CAF_CHECK(answered_done(result, "result write"));
  CAF_CHECK_EQUAL(live_jobs_rows(), std::vector<std::string>{"live"});
  pqxx::connection connection{url};
  {
    pqxx::work txn{connection};
    txn.exec("INSERT INTO live_jobs (cluster_id, created_at, id) "
             "SELECT cluster_id, created_at, id FROM jobs WHERE id = 'done'");
    txn.commit();
  }
  CAF_CHECK_EQUAL(live_jobs_rows(), (std::vector<std::string>{"done", "live"}));
  // As the loader reads them (live_jobs_loader.cpp), and as a whole.
  pqxx::work txn{connection};
  std::vector<job_record> loaded;
  for (const auto& cursor :
       persistence::sql::declare_live_jobs_cursors(txn, "c1", boundary))
    for (;;) {
      auto rows = persistence::sql::fetch_live_rows(txn, cursor, 100);
      persistence::sql::append_jobs(rows, loaded);
      if (rows.size() < 100)
        break;
    }
  std::vector<std::string> ids;
  for (const auto& j : loaded)
    ids.push_back(j.id);
  CAF_CHECK_EQUAL(ids, std::vector<std::string>{"live"});
  for (long look_up_below : {100000L, 0L}) {
    auto whole = persistence::sql::load_live_jobs(txn, "c1", look_up_below);
    CAF_REQUIRE_EQUAL(whole.size(), 1u);
    CAF_CHECK_EQUAL(whole[0].id, "live");
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
