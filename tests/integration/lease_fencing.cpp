#define CAF_SUITE lease_fencing

#include "actors/message_types.hpp"
#include "persistence/lease_keeper.hpp"
#include "persistence/migrations.hpp"
#include "persistence/result_lane.hpp"
#include "persistence/sql_leases.hpp"
#include "persistence/write_batch.hpp"
#include "test_database.hpp"

#include <caf/all.hpp>
#include <caf/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <optional>
#include <thread>

using namespace diffplane;
using namespace diffplane::testing;
using namespace std::chrono_literals;

namespace {

struct lease_test_config : caf::actor_system_config {
  lease_test_config() { register_message_types(*this); }
};

/// The real writer and lease keepers of two nodes on a fresh, migrated database with
/// one cluster, in a real actor system.
struct fixture {
  std::string url = create_test_database();
  lease_test_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::vector<caf::actor> spawned;

  fixture() {
    pqxx::connection connection{url};
    persistence::apply_migrations(connection);
    auto writer = writer_of("");
    ask<done_atom>(writer, cluster_record{"c1", "sk_c1", "", 0, false, false});
  }

  ~fixture() {
    for (auto& actor : spawned)
      self->send_exit(actor, caf::exit_reason::user_shutdown);
  }

  /// With `result_lane`, the node's writer (result_lane.hpp).
  persistence_actor writer_of(const std::string& node_id, bool result_lane = false) {
    persistence_options options;
    options.database_url = url;
    options.name = "writer";
    options.node_id = node_id;
    options.dispatch_write_delay = 0ms;
    auto writer =
        result_lane ? spawn_writer(sys, options) : spawn_persistence(sys, options);
    spawned.push_back(caf::actor_cast<caf::actor>(writer));
    return writer;
  }

  lease_keeper_actor keeper_of(const std::string& node_id,
                               std::chrono::milliseconds ttl) {
    register_node(url, node_identity{node_id, "", "", 0, "test-host", 1, ""}, ttl);
    auto keeper = spawn_lease_keeper(sys, lease_keeper_options{url, node_id, ttl, {}});
    spawned.push_back(caf::actor_cast<caf::actor>(keeper));
    return keeper;
  }

  template <class T, class Handle, class... Ts> T ask(const Handle& to, Ts&&... xs) {
    std::optional<T> result;
    self->request(to, caf::duration{10s}, std::forward<Ts>(xs)...)
        .receive(
            [&](T& value) { result = std::move(value); },
            [&](caf::error& err) { CAF_FAIL("request failed: " << sys.render(err)); });
    return std::move(*result);
  }

  /// The error a request gets; CAF_FAIL when it succeeds.
  template <class Reply, class Handle, class... Ts>
  std::string refusal(const Handle& to, Ts&&... xs) {
    std::string message;
    self->request(to, caf::duration{10s}, std::forward<Ts>(xs)...)
        .receive([&](Reply&) { CAF_FAIL("the request succeeded"); },
                 [&](caf::error& err) { message = sys.render(err); });
    return message;
  }

  /// Whether the writer told this test (the sender of its lease epochs) within 5 s that
  /// it refused writes of c1 sent under `epoch`.
  bool told_fenced(std::int64_t epoch) {
    bool told = false;
    self->receive(
        [&](fenced_atom, const std::string& cluster, std::int64_t fenced_epoch) {
          told = cluster == "c1" && fenced_epoch == epoch;
        },
        caf::after(std::chrono::seconds{5}) >> [] {});
    return told;
  }

  static job_record job(const std::string& id) {
    job_record job;
    job.cluster_id = "c1";
    job.id = id;
    job.service = "svc";
    job.target_fn = "fn";
    job.revision = 1;
    return job;
  }

  static job_record generated_job(const std::string& cluster_id, const std::string& id) {
    auto row = job(id);
    row.cluster_id = cluster_id;
    row.id_generated = true;
    return row;
  }

  /// Runs `batch` as the writer runs a one-statement batch under fencing: its own
  /// statement, committing on its own. Answers the clusters it found fenced.
  std::vector<std::string>
  execute_fenced(const persistence::write_batch& batch, const std::string& node_id,
                 std::vector<persistence::write_outcome>* outcomes = nullptr) {
    CAF_REQUIRE(batch.one_statement());
    pqxx::connection connection{url};
    pqxx::nontransaction txn{connection};
    std::vector<persistence::write_outcome> ignored;
    return batch.execute_fenced(txn, node_id, outcomes != nullptr ? *outcomes : ignored);
  }

  /// A second cluster, c2, and node n1 holding both leases for a minute: their epochs.
  std::pair<std::int64_t, std::int64_t> n1_holds_c1_and_c2() {
    ask<done_atom>(writer_of(""), cluster_record{"c2", "sk_c2", "", 0, false, false});
    auto keeper = keeper_of("n1", 60000ms);
    return {ask<lease_grant>(keeper, acquire_atom::value, std::string{"c1"}).epoch,
            ask<lease_grant>(keeper, acquire_atom::value, std::string{"c2"}).epoch};
  }

  /// Checks that node n2's acquisition of c1 waits for `write` (a write of n1 under
  /// `epoch`, not committed yet) and, once it commits, gets the next epoch and sees the
  /// one job the write made.
  void n2_takes_c1_after(pqxx::work& write, std::int64_t epoch) {
    auto taking = std::async(std::launch::async, [this] {
      pqxx::connection connection{url};
      pqxx::work txn{connection};
      register_node(url, node_identity{"n2", "", "", 0, "test-host", 1, ""}, 3000ms);
      auto taken = persistence::sql::acquire_lease(txn, "n2", "c1", 3000ms);
      txn.commit();
      return taken;
    });
    CAF_CHECK(taking.wait_for(500ms) == std::future_status::timeout);
    write.commit();
    CAF_REQUIRE(taking.wait_for(10s) == std::future_status::ready);
    CAF_CHECK_EQUAL(taking.get().epoch, epoch + 1);
    CAF_CHECK_EQUAL(jobs_in_database(), 1);
  }

  /// Every job as "id=status", by id.
  std::string job_statuses() {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    return txn
        .exec("SELECT string_agg(id || '=' || status, ',' ORDER BY id) FROM jobs")[0][0]
        .as<std::string>();
  }

  int jobs_in_database() {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    return txn.exec("SELECT count(*) FROM jobs")[0][0].as<int>();
  }
};

/// The pid of a process that has ended.
pid_t ended_process() {
  auto pid = fork();
  if (pid == 0)
    _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(lease_fencing_tests, fixture)

CAF_TEST(writes commit while the node holds the lease at their epoch) {
  auto keeper = keeper_of("n1", 3000ms);
  auto epoch = ask<lease_grant>(keeper, acquire_atom::value, std::string{"c1"}).epoch;
  CAF_CHECK_EQUAL(epoch, 1);
  auto writer = writer_of("n1");
  self->send(writer, lease_epoch_atom::value, std::string{"c1"}, epoch);
  CAF_CHECK(ask<bool>(writer, job("j1")));
  CAF_CHECK_EQUAL(jobs_in_database(), 1);
  auto view = ask<membership_view>(keeper, membership_round_atom::value,
                                   std::vector<held_lease>{{"c1", epoch}});
  CAF_CHECK_EQUAL(view.renewed, std::vector<std::string>{"c1"});
  CAF_REQUIRE_EQUAL(view.nodes.size(), 1u);
  CAF_CHECK_EQUAL(view.nodes[0].id, "n1");
  CAF_REQUIRE_EQUAL(view.leases.size(), 1u);
  CAF_CHECK_EQUAL(view.leases[0].node_id, "n1");
  CAF_CHECK(!view.leases[0].expired);
}

CAF_TEST(writes under an epoch another node replaced are refused and the node is told) {
  // Long enough for the refused acquisition below on a loaded machine.
  auto first = keeper_of("n1", 1500ms);
  auto epoch = ask<lease_grant>(first, acquire_atom::value, std::string{"c1"}).epoch;
  auto writer = writer_of("n1");
  self->send(writer, lease_epoch_atom::value, std::string{"c1"}, epoch);
  CAF_CHECK(ask<bool>(writer, job("before")));
  auto second = keeper_of("n2", 3000ms);
  CAF_CHECK_EQUAL(ask<lease_grant>(second, acquire_atom::value, std::string{"c1"}).epoch,
                  0);
  std::this_thread::sleep_for(1600ms);
  CAF_CHECK_EQUAL(ask<lease_grant>(second, acquire_atom::value, std::string{"c1"}).epoch,
                  2);
  auto message = refusal<bool>(writer, job("after"));
  CAF_CHECK(message.find("no longer holds the lease of cluster c1") != std::string::npos);
  CAF_CHECK(told_fenced(epoch));
  CAF_CHECK_EQUAL(jobs_in_database(), 1);
  // The renewal of the lost lease fails too.
  auto view = ask<membership_view>(first, membership_round_atom::value,
                                   std::vector<held_lease>{{"c1", epoch}});
  CAF_CHECK(view.renewed.empty());
}

CAF_TEST(final states on the result lane are fenced alike and the node is told) {
  auto first = keeper_of("n1", 1500ms);
  auto epoch = ask<lease_grant>(first, acquire_atom::value, std::string{"c1"}).epoch;
  auto writer = writer_of("n1", true);
  self->send(writer, lease_epoch_atom::value, std::string{"c1"}, epoch);
  CAF_CHECK(ask<bool>(writer, job("before")));
  CAF_CHECK(ask<bool>(writer, job("after")));
  auto final_state = [](const std::string& id) {
    job_state_write w;
    w.cluster_id = "c1";
    w.id = id;
    w.status = job_status::success;
    w.result_type = result_kind::resolution;
    w.revision = 2;
    return w;
  };
  // The lane knows the epoch: a final state commits while the lease is held.
  ask<done_atom>(writer, final_state("before"));
  auto second = keeper_of("n2", 3000ms);
  std::this_thread::sleep_for(1600ms);
  CAF_CHECK_EQUAL(ask<lease_grant>(second, acquire_atom::value, std::string{"c1"}).epoch,
                  epoch + 1);
  auto message = refusal<done_atom>(writer, final_state("after"));
  CAF_CHECK(message.find("no longer holds the lease of cluster c1") != std::string::npos);
  CAF_CHECK(told_fenced(epoch));
  CAF_CHECK_EQUAL(job_statuses(), "after=pending,before=success");
}

CAF_TEST(a write of a cluster the node holds no lease of is refused) {
  auto writer = writer_of("n1");
  refusal<bool>(writer, job("j1"));
  CAF_CHECK_EQUAL(jobs_in_database(), 0);
}

CAF_TEST(an acquisition waits for the write in flight and its load sees it) {
  auto keeper = keeper_of("n1", 200ms);
  auto epoch = ask<lease_grant>(keeper, acquire_atom::value, std::string{"c1"}).epoch;
  std::this_thread::sleep_for(300ms);
  // A write of n1 in flight: the lease row locked by its fence check, not committed.
  pqxx::connection writing{url};
  pqxx::work write{writing};
  auto fenced = persistence::sql::fenced_clusters(write, "n1", {{"c1", epoch}});
  CAF_REQUIRE(fenced.empty());
  write.exec("INSERT INTO jobs (cluster_id, id, service, target_fn, target_args, status, "
             "max_attempts, timeout_seconds) "
             "VALUES ('c1', 'in-flight', 'svc', 'fn', '', 'pending', 1, 60)");
  n2_takes_c1_after(write, epoch);
}

CAF_TEST(the holder renews its lease while a write of it is in flight) {
  auto keeper = keeper_of("n1", 3000ms);
  auto epoch = ask<lease_grant>(keeper, acquire_atom::value, std::string{"c1"}).epoch;
  // A long group commit of n1: the lease row locked by its fence check.
  pqxx::connection writing{url};
  pqxx::work write{writing};
  CAF_REQUIRE(persistence::sql::fenced_clusters(write, "n1", {{"c1", epoch}}).empty());
  auto renewing = std::async(std::launch::async, [this, epoch] {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    auto renewed = persistence::sql::renew_leases(txn, "n1", {{"c1", epoch}}, 3000ms);
    txn.commit();
    return renewed.size();
  });
  // Not behind the write: a write longer than the lease would otherwise cost the lease.
  auto renewed_while_writing = renewing.wait_for(2s) == std::future_status::ready;
  write.commit();
  CAF_CHECK(renewed_while_writing);
  CAF_CHECK_EQUAL(renewing.get(), 1u);
}

CAF_TEST(a released lease is not renewed and another node takes it at once) {
  auto keeper = keeper_of("n1", 30000ms);
  auto epoch = ask<lease_grant>(keeper, acquire_atom::value, std::string{"c1"}).epoch;
  ask<done_atom>(keeper, release_lease_atom::value, held_lease{"c1", epoch});
  {
    // A renewal that comes after the release, as the stopping node's keeper may send.
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    CAF_CHECK(
        persistence::sql::renew_leases(txn, "n1", {{"c1", epoch}}, 30000ms).empty());
    txn.commit();
  }
  auto other = keeper_of("n2", 30000ms);
  auto grant = ask<lease_grant>(other, acquire_atom::value, std::string{"c1"});
  CAF_CHECK_EQUAL(grant.epoch, epoch + 1);
  CAF_CHECK(grant.released);
}

CAF_TEST(a renewal and a group commit lock the leases in one order) {
  ask<done_atom>(writer_of(""), cluster_record{"c2", "sk_c2", "", 0, false, false});
  auto keeper = keeper_of("n1", 60000ms);
  std::vector<held_lease> held{
      {"c1", ask<lease_grant>(keeper, acquire_atom::value, std::string{"c1"}).epoch},
      {"c2", ask<lease_grant>(keeper, acquire_atom::value, std::string{"c2"}).epoch}};
  // A third session holds c1 so that the two below queue on it: the group commit's fence
  // check, which locks c1 first, and then a renewal made to reach its rows by their
  // index in the order it names them, c2 first.
  pqxx::connection holding{url};
  pqxx::work hold{holding};
  hold.exec("SELECT 1 FROM cluster_leases WHERE cluster_id = 'c1' FOR UPDATE");
  // Only this test's database: a second copy of the suite on the same Postgres has
  // lock waits of its own.
  auto waiting_sessions = [this] {
    pqxx::connection connection{url};
    pqxx::nontransaction txn{connection};
    return txn
        .exec("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
              "AND datname = current_database()")[0][0]
        .as<int>();
  };
  auto wait_until_waiting = [&](int sessions) {
    auto until = std::chrono::steady_clock::now() + 10s;
    while (waiting_sessions() < sessions && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(20ms);
    CAF_REQUIRE_EQUAL(waiting_sessions(), sessions);
  };
  // Each answers what it did, or the error Postgres ended it with (a deadlock).
  auto fencing = std::async(std::launch::async, [this, held]() -> std::string {
    try {
      pqxx::connection connection{url};
      pqxx::work txn{connection};
      auto fenced = persistence::sql::fenced_clusters(txn, "n1", held);
      txn.commit();
      return "fenced " + std::to_string(fenced.size());
    } catch (const std::exception& e) {
      return e.what();
    }
  });
  wait_until_waiting(1);
  auto renewing = std::async(std::launch::async, [this, held]() -> std::string {
    try {
      pqxx::connection connection{url};
      pqxx::work txn{connection};
      txn.exec("SET LOCAL enable_seqscan = off");
      txn.exec("SET LOCAL enable_hashjoin = off");
      txn.exec("SET LOCAL enable_mergejoin = off");
      auto renewed = persistence::sql::renew_leases(
          txn, "n1", {held.rbegin(), held.rend()}, 60000ms);
      txn.commit();
      return "renewed " + std::to_string(renewed.size());
    } catch (const std::exception& e) {
      return e.what();
    }
  });
  wait_until_waiting(2);
  hold.abort();
  CAF_CHECK_EQUAL(fencing.get(), "fenced 0");
  CAF_CHECK_EQUAL(renewing.get(), "renewed 2");
}

CAF_TEST(a job write that fences itself lands while the node holds every lease) {
  auto [c1, c2] = n1_holds_c1_and_c2();
  persistence::write_batch batch;
  batch.fence(batch.add(generated_job("c2", "j2")), c2);
  batch.fence(batch.add(generated_job("c1", "j1")), c1);
  std::vector<persistence::write_outcome> outcomes;
  CAF_CHECK(execute_fenced(batch, "n1", &outcomes).empty());
  CAF_REQUIRE_EQUAL(outcomes.size(), 2u);
  CAF_CHECK(outcomes[0].inserted && outcomes[1].inserted);
  CAF_CHECK_EQUAL(jobs_in_database(), 2);
}

CAF_TEST(a job write that fences itself writes nothing when one of its leases is lost) {
  auto [c1, c2] = n1_holds_c1_and_c2();
  persistence::write_batch first;
  first.fence(first.add(generated_job("c1", "existing")), c1);
  CAF_REQUIRE(execute_fenced(first, "n1").empty());
  // c1 still held, c2 under an epoch the node no longer has.
  persistence::write_batch batch;
  job_state_write done;
  done.cluster_id = "c1";
  done.id = "existing";
  done.status = job_status::success;
  done.result_type = result_kind::resolution;
  done.revision = 2;
  batch.fence(batch.add(done), c1);
  batch.fence(batch.add(generated_job("c1", "new-c1")), c1);
  batch.fence(batch.add(generated_job("c2", "new-c2")), c2 + 1);
  CAF_CHECK_EQUAL(execute_fenced(batch, "n1"), std::vector<std::string>{"c2"});
  // Nor does a node that never held the lease.
  persistence::write_batch other;
  other.fence(other.add(generated_job("c1", "by-n2")), c1);
  CAF_CHECK_EQUAL(execute_fenced(other, "n2"), std::vector<std::string>{"c1"});
  CAF_CHECK_EQUAL(job_statuses(), "existing=pending");
}

CAF_TEST(an acquisition waits for a job write that fences itself and sees it) {
  auto keeper = keeper_of("n1", 200ms);
  auto epoch = ask<lease_grant>(keeper, acquire_atom::value, std::string{"c1"}).epoch;
  std::this_thread::sleep_for(300ms);
  // The statement inside a transaction left open: its lock lasts until the commit.
  persistence::write_batch batch;
  batch.fence(batch.add(generated_job("c1", "in-flight")), epoch);
  pqxx::connection writing{url};
  pqxx::work write{writing};
  std::vector<persistence::write_outcome> outcomes;
  CAF_REQUIRE(batch.execute_fenced(write, "n1", outcomes).empty());
  n2_takes_c1_after(write, epoch);
}

CAF_TEST(a job write that fences itself behind an acquisition writes nothing) {
  auto keeper = keeper_of("n1", 200ms);
  auto epoch = ask<lease_grant>(keeper, acquire_atom::value, std::string{"c1"}).epoch;
  std::this_thread::sleep_for(300ms);
  // n2 takes the expired lease in a transaction it has not committed yet.
  register_node(url, node_identity{"n2", "", "", 0, "test-host", 1, ""}, 3000ms);
  pqxx::connection taking_connection{url};
  pqxx::work taking{taking_connection};
  CAF_REQUIRE_EQUAL(persistence::sql::acquire_lease(taking, "n2", "c1", 3000ms).epoch,
                    epoch + 1);
  auto writing = std::async(std::launch::async, [this, epoch] {
    persistence::write_batch batch;
    batch.fence(batch.add(generated_job("c1", "late")), epoch);
    return execute_fenced(batch, "n1");
  });
  // Its check waits for the lease row; once n2 commits it finds the new epoch.
  CAF_CHECK(writing.wait_for(500ms) == std::future_status::timeout);
  taking.commit();
  CAF_REQUIRE(writing.wait_for(10s) == std::future_status::ready);
  CAF_CHECK_EQUAL(writing.get(), std::vector<std::string>{"c1"});
  CAF_CHECK_EQUAL(jobs_in_database(), 0);
}

CAF_TEST(a node id taken by a live node is refused and a dead process is retired) {
  // pid 1 is alive on any host; an ended child is not.
  register_node(url, node_identity{"n1", "", "", 0, "host-a", 1, ""}, 3000ms);
  bool refused = false;
  try {
    register_node(url, node_identity{"n1", "", "", 0, "host-b", 7, ""}, 3000ms);
  } catch (const std::runtime_error& e) {
    refused = std::string{e.what()}.find("taken by a live node") != std::string::npos;
  }
  CAF_CHECK(refused);
  register_node(url, node_identity{"n2", "", "", 0, "host-a", ended_process(), ""},
                3000ms);
  auto keeper = spawn_lease_keeper(sys, lease_keeper_options{url, "n2", 60000ms, {}});
  spawned.push_back(caf::actor_cast<caf::actor>(keeper));
  CAF_CHECK_EQUAL(ask<lease_grant>(keeper, acquire_atom::value, std::string{"c1"}).epoch,
                  1);
  // A node restarted on host-a retires n2, whose process is gone, and its lease ends.
  register_node(url, node_identity{"n3", "", "", 0, "host-a", getpid(), ""}, 60000ms);
  pqxx::connection connection{url};
  pqxx::work txn{connection};
  CAF_CHECK(!txn.exec("SELECT stopped_at FROM nodes WHERE id = 'n2'")[0][0].is_null());
  CAF_CHECK(txn.exec("SELECT stopped_at FROM nodes WHERE id = 'n1'")[0][0].is_null());
  CAF_CHECK(txn.exec("SELECT expires_at <= now() FROM cluster_leases")[0][0].as<bool>());
  CAF_CHECK(
      !txn.exec("SELECT ended_at FROM lease_history WHERE epoch = 1")[0][0].is_null());
}

CAF_TEST_FIXTURE_SCOPE_END()
