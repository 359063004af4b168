#define CAF_SUITE writer_replay

#include "writer_fixture.hpp"

#include "persistence/errors.hpp"

// What the real writer does when a batch fails or its connection is lost: every write is
// replayed on its own, on a new connection if need be, and each answer is what became of
// that write.

using namespace diffplane;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::writer_fixture {
  fixture() : writer_fixture(0ms) {}

  /// "inserted", "existed" or the error code of a job insert.
  std::string insert_outcome(const job_record& job) {
    std::string out;
    self->request(writer, caf::infinite, job)
        .receive([&](bool inserted) { out = inserted ? "inserted" : "existed"; },
                 [&](caf::error& e) { out = std::string{to_string(code_of(e))}; });
    return out;
  }

  static job_record generated(const std::string& id) {
    auto j = job(id);
    j.id_generated = true;
    return j;
  }

  /// Ends every other session on the test's database, the writer's among them.
  void terminate_other_sessions() {
    pqxx::connection connection{url};
    pqxx::nontransaction txn{connection};
    txn.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(writer_replay_tests, fixture)

CAF_TEST(a lost connection is replaced and the write committed on the new one) {
  CAF_CHECK_EQUAL(insert_outcome(generated("before")), "inserted");
  terminate_other_sessions();
  // The writer learns of the loss from its next statement; it must not fail that write.
  CAF_CHECK_EQUAL(insert_outcome(generated("after")), "inserted");
  CAF_CHECK_EQUAL(status_in_database("after"), "pending");
}

CAF_TEST(a generated id found at the replay is the earlier commit of its batch) {
  // As after a commit whose confirmation was lost: the row is there, the writer replays.
  CAF_CHECK_EQUAL(insert_outcome(generated("landed")), "inserted");
  CAF_CHECK_EQUAL(insert_outcome(generated("landed")), "inserted");
  CAF_CHECK_EQUAL(status_in_database("landed"), "pending");
}

CAF_TEST(an execution id found at the replay is reported as existing) {
  CAF_CHECK_EQUAL(insert_outcome(job("chosen")), "inserted");
  CAF_CHECK_EQUAL(insert_outcome(job("chosen")), "existed");
}

CAF_TEST(a row postgres refuses fails alone and its neighbours commit) {
  client_event_record absurd;
  absurd.cluster_id = "c1";
  absurd.machine_id = "m1";
  absurd.type = "functionInvocation";
  absurd.timestamp = 100'000'000'000'000'000; // far past the years Postgres can hold
  auto bad =
      self->request(writer, caf::infinite, std::vector<client_event_record>{absurd});
  auto good = self->request(writer, caf::infinite, generated("neighbour"));
  std::string bad_outcome;
  bad.receive([&](done_atom) { bad_outcome = "done"; },
              [&](caf::error& e) { bad_outcome = std::string{to_string(code_of(e))}; });
  CAF_CHECK_EQUAL(bad_outcome, "internal");
  good.receive([](bool inserted) { CAF_CHECK(inserted); },
               [](caf::error& e) { CAF_FAIL("insert failed: " << to_string(e)); });
  CAF_CHECK_EQUAL(status_in_database("neighbour"), "pending");
}

CAF_TEST_FIXTURE_SCOPE_END()
