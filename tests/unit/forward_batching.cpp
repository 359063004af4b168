#define CAF_SUITE forward_batching

#include "actor_fixture.hpp"

#include "actors/mesh.hpp"
#include "persistence/errors.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <variant>

// The forwarder and the gate with test doubles around them: a node that says where the
// cluster is served, gates that record what reaches them, clusters that answer at once.
// node_mesh runs the same code between two real nodes over a simulated network.
using namespace diffplane;
using namespace std::chrono_literals;

namespace {

constexpr const char* cluster_id = "c1";
constexpr const char* secret = "mesh-secret";

/// What reached a stand-in gate.
struct gate_log {
  std::vector<forward_batch> batches;
  /// Messages of any other kind (a request forwarded on its own).
  std::size_t others = 0;
  caf::strong_actor_ptr forwarder;
};

/// A gate that records batches; a forward_answers sent to it goes on to the forwarder
/// as its own answers, so the test decides what the owner answers, and when. Anything
/// else is counted and never answered.
caf::behavior recording_gate(caf::event_based_actor* self,
                             std::shared_ptr<gate_log> log) {
  self->set_default_handler([log](caf::scheduled_actor*, caf::message_view&) {
    ++log->others;
    return caf::result<caf::message>{caf::delegated<caf::message>{}};
  });
  return {
      [self, log](forward_batch& batch) {
        log->forwarder = self->current_sender();
        log->batches.push_back(std::move(batch));
      },
      [self, log](forward_answers& answers) {
        self->send(caf::actor_cast<caf::actor>(log->forwarder), std::move(answers));
      },
  };
}

/// What reached a gate of an older node, which cannot read batches: a batch never
/// reaches its handlers (it is dropped as it is read), creates sent alone are answered.
struct older_gate_log {
  std::size_t dropped = 0;
  std::size_t answered = 0;
};

caf::behavior older_gate(caf::event_based_actor* self,
                         std::shared_ptr<older_gate_log> log) {
  self->set_default_handler([log](caf::scheduled_actor*, caf::message_view&) {
    ++log->dropped;
    return caf::result<caf::message>{caf::delegated<caf::message>{}};
  });
  return {
      [log](forward_atom, const std::string&, const std::string&,
            create_job_request& r) {
        ++log->answered;
        return "job-" + r.execution_id;
      },
  };
}

/// A node whose routes and local cluster the test sets.
struct node_double {
  caf::actor gate;
  caf::actor cluster;
  std::optional<caf::error> local_error;
};

caf::behavior node_behavior(caf::event_based_actor*, std::shared_ptr<node_double> node) {
  return {
      [node](route_atom, const std::string&) {
        return std::make_tuple(cluster_actor{},
                               caf::actor_cast<mesh_gate_actor>(node->gate));
      },
      [node](local_cluster_atom, const std::string&) -> caf::result<cluster_actor> {
        if (node->local_error)
          return *node->local_error;
        return caf::actor_cast<cluster_actor>(node->cluster);
      },
  };
}

/// A cluster that answers the hot requests at once and counts them.
caf::behavior answering_cluster(caf::event_based_actor*, std::shared_ptr<int> served) {
  return {
      [served](create_job_request& r) {
        ++*served;
        return "job-" + r.execution_id;
      },
      [served](jobs_request& r) {
        ++*served;
        return std::vector<dispatched_job>{{"j-" + r.machine_id, "fn", "", 1}};
      },
      [served](job_result_post&) {
        ++*served;
        return true;
      },
      [served](status_request&) {
        ++*served;
        return std::vector<job_status_row>{};
      },
  };
}

using outcome = std::optional<std::variant<std::string, caf::error>>;

job_result_post result_of(const std::string& job) {
  job_result_post post;
  post.job_id = job;
  post.machine_id = "m1";
  return post;
}

struct fixture : testing::actor_fixture {
  std::shared_ptr<node_double> node_state = std::make_shared<node_double>();
  caf::actor node = sys.spawn(node_behavior, node_state);
  std::shared_ptr<gate_log> first_log = std::make_shared<gate_log>();
  caf::actor first_gate = sys.spawn(recording_gate, first_log);
  cluster_actor forwarder;

  fixture() {
    node_state->gate = first_gate;
    forwarder = spawn_cluster_forwarder(self.ptr(), caf::actor_cast<node_actor>(node),
                                        cluster_id, secret, 3s);
    run();
  }

  ~fixture() {
    for (auto handle : {caf::actor_cast<caf::actor>(forwarder), node, first_gate})
      self->send_exit(handle, caf::exit_reason::user_shutdown);
    run();
  }

  /// Sends a create with execution id `id` from an actor of its own, which keeps the
  /// answer once one comes.
  std::shared_ptr<outcome> send_create(const std::string& id) {
    auto result = std::make_shared<outcome>();
    create_job_request create;
    create.service = "svc";
    create.target_fn = "fn";
    create.execution_id = id;
    sys.spawn([f = forwarder, create, result](caf::event_based_actor* requester) {
      requester->request(f, caf::infinite, create)
          .then([result](std::string& job) { *result = job; },
                [result](caf::error& err) { *result = err; });
    });
    return result;
  }

  template <class Reply, class Request>
  std::shared_ptr<std::optional<Reply>> send_other(Request request) {
    auto result = std::make_shared<std::optional<Reply>>();
    sys.spawn([f = forwarder, request, result](caf::event_based_actor* requester) {
      requester->request(f, caf::infinite, request)
          .then([result](Reply& reply) { *result = std::move(reply); },
                [](caf::error&) {
                  // Left without an answer: the test's checks say what was missing.
                });
    });
    return result;
  }

  /// Three creates (execution ids e1 to e3), a worker poll and a result, each from an
  /// actor of its own, all in one turn of the forwarder's mailbox.
  auto send_mixed() {
    auto a = send_create("e1");
    auto b = send_create("e2");
    auto c = send_create("e3");
    jobs_request poll;
    poll.machine_id = "m1";
    auto polled = send_other<std::vector<dispatched_job>>(poll);
    auto posted = send_other<bool>(result_of("j9"));
    run();
    return std::make_tuple(a, b, c, polled, posted);
  }

  /// Has `gate` answer the creates of `batch` with "job-" and their execution id.
  void answer_creates(const caf::actor& gate, const forward_batch& batch) {
    forward_answers answers;
    for (const auto& create : batch.creates)
      answers.created.push_back({create.id, "job-" + create.value.execution_id});
    std::reverse(answers.created.begin(), answers.created.end());
    self->send(gate, answers);
    run();
  }
};

std::string job_of(const std::shared_ptr<outcome>& result) {
  if (!result->has_value())
    return "(no answer)";
  if (auto job = std::get_if<std::string>(&**result))
    return *job;
  return "(error " + caf::to_string(std::get<caf::error>(**result)) + ")";
}

std::set<std::string> execution_ids(const std::vector<forward_batch>& batches) {
  std::set<std::string> ids;
  for (const auto& batch : batches)
    for (const auto& create : batch.creates)
      ids.insert(create.value.execution_id);
  return ids;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(forward_batching_tests, fixture)

CAF_TEST(requests of one turn travel to the owner as one message) {
  auto [a, b, c, polled, posted] = send_mixed();
  CAF_CHECK_EQUAL(first_log->others, 0u);
  CAF_REQUIRE_EQUAL(first_log->batches.size(), 1u);
  const auto& batch = first_log->batches.front();
  CAF_CHECK_EQUAL(batch.secret, secret);
  CAF_CHECK_EQUAL(batch.cluster_id, cluster_id);
  CAF_CHECK_EQUAL(batch.creates.size(), 3u);
  CAF_CHECK_EQUAL(batch.polls.size(), 1u);
  CAF_CHECK_EQUAL(batch.results.size(), 1u);
  auto ids = execution_ids(first_log->batches);
  CAF_CHECK(ids == (std::set<std::string>{"e1", "e2", "e3"}));
  CAF_CHECK(!a->has_value());
}

CAF_TEST(a wait for a posted result travels to the owner as a plain status wait) {
  // Nodes read only plain status waits from each other, whatever their version.
  auto rows = std::make_shared<std::optional<std::vector<job_status_row>>>();
  status_request wait{{"j9"}, 5000, true};
  sys.spawn([f = forwarder, wait, rows](caf::event_based_actor* requester) {
    requester->request(f, caf::infinite, posted_result_atom::value, wait)
        .then([rows](std::vector<job_status_row>& x) { *rows = std::move(x); },
              [](caf::error&) {});
  });
  run();
  CAF_CHECK_EQUAL(first_log->others, 0u);
  CAF_REQUIRE_EQUAL(first_log->batches.size(), 1u);
  const auto& batch = first_log->batches.front();
  CAF_REQUIRE_EQUAL(batch.status_waits.size(), 1u);
  CAF_CHECK(batch.status_waits[0].value == wait);
  forward_answers answers;
  answers.statuses.push_back(
      {batch.status_waits[0].id,
       {job_status_row{"j9", job_status::success, result_kind::resolution, "cmVzdWx0"}}});
  self->send(first_gate, answers);
  run();
  CAF_REQUIRE(rows->has_value());
  CAF_REQUIRE_EQUAL((*rows)->size(), 1u);
  CAF_CHECK_EQUAL((*rows)->front().status, job_status::success);
}

CAF_TEST(the answers of one message reach each requester) {
  auto [a, b, c, polled, posted] = send_mixed();
  CAF_REQUIRE_EQUAL(first_log->batches.size(), 1u);
  auto batch = first_log->batches.front();
  forward_answers answers;
  for (const auto& create : batch.creates) {
    if (create.value.execution_id == "e2")
      answers.failed.push_back({create.id, make_error(error_code::not_found, "gone")});
    else
      answers.created.push_back({create.id, "job-" + create.value.execution_id});
  }
  answers.dispatched.push_back({batch.polls.at(0).id, {{"j1", "fn", "", 1}}});
  answers.posted.push_back({batch.results.at(0).id, true});
  self->send(first_gate, answers);
  run();
  CAF_CHECK_EQUAL(job_of(a), "job-e1");
  CAF_CHECK_EQUAL(job_of(c), "job-e3");
  CAF_REQUIRE(b->has_value());
  CAF_REQUIRE(std::holds_alternative<caf::error>(**b));
  CAF_CHECK_EQUAL(code_of(std::get<caf::error>(**b)), error_code::not_found);
  CAF_REQUIRE(polled->has_value());
  CAF_CHECK_EQUAL((*polled)->size(), 1u);
  CAF_REQUIRE(posted->has_value());
  CAF_CHECK_EQUAL(**posted, true);
}

CAF_TEST(answers from anyone but the gate are ignored) {
  auto a = send_create("e1");
  run();
  CAF_REQUIRE_EQUAL(first_log->batches.size(), 1u);
  auto batch = first_log->batches.front();
  // Another actor (a peer that learned the forwarder's address) answers first.
  auto impostor_log = std::make_shared<gate_log>();
  auto impostor = sys.spawn(recording_gate, impostor_log);
  impostor_log->forwarder = caf::actor_cast<caf::strong_actor_ptr>(forwarder);
  forward_answers fake;
  fake.created.push_back({batch.creates.at(0).id, "forged"});
  self->send(impostor, fake);
  run();
  CAF_CHECK(!a->has_value());
  answer_creates(first_gate, batch);
  CAF_CHECK_EQUAL(job_of(a), "job-e1");
  self->send_exit(impostor, caf::exit_reason::user_shutdown);
}

CAF_TEST(a batch whose owner dies is tried again per request at the new owner) {
  auto a = send_create("e1");
  auto b = send_create("e2");
  auto c = send_create("e3");
  run();
  CAF_REQUIRE_EQUAL(first_log->batches.size(), 1u);
  // The owner's node goes down with the batch unanswered; the cluster is served by
  // another node by then.
  auto second_log = std::make_shared<gate_log>();
  auto second_gate = sys.spawn(recording_gate, second_log);
  node_state->gate = second_gate;
  self->send_exit(first_gate, caf::exit_reason::kill);
  run();
  CAF_CHECK(!a->has_value());
  advance_time(200ms);
  // The same creates, with the job ids chosen before the first try: none runs twice.
  CAF_CHECK_EQUAL(second_log->others, 0u);
  CAF_CHECK(execution_ids(second_log->batches) == execution_ids(first_log->batches));
  for (const auto& batch : second_log->batches)
    answer_creates(second_gate, batch);
  CAF_CHECK_EQUAL(job_of(a), "job-e1");
  CAF_CHECK_EQUAL(job_of(b), "job-e2");
  CAF_CHECK_EQUAL(job_of(c), "job-e3");
  self->send_exit(second_gate, caf::exit_reason::user_shutdown);
}

CAF_TEST(batched requests to a silent owner end in bounded time) {
  auto a = send_create("e1");
  auto b = send_create("e2");
  run();
  CAF_REQUIRE_EQUAL(first_log->batches.size(), 1u);
  // No answer before the first try's limit: the owner may still answer it.
  advance_in_steps(1900ms, 100ms);
  CAF_CHECK(!a->has_value());
  // The try ends at its limit and the next one goes out (same job ids), alone: the gate
  // never answered a batch.
  advance_in_steps(300ms, 100ms);
  CAF_CHECK_EQUAL(first_log->batches.size(), 1u);
  CAF_CHECK_GREATER_OR_EQUAL(first_log->others, 1u);
  // Silent for two lease TTLs and a try more: unavailable, well before the 25 s budget.
  advance_in_steps(10s, 100ms);
  for (const auto& result : {a, b}) {
    CAF_REQUIRE(result->has_value());
    CAF_REQUIRE(std::holds_alternative<caf::error>(**result));
    CAF_CHECK_EQUAL(code_of(std::get<caf::error>(**result)), error_code::unavailable);
  }
  CAF_CHECK(execution_ids(first_log->batches) == (std::set<std::string>{"e1", "e2"}));
}

CAF_TEST(requests to an older node that cannot read batches go one at a time) {
  auto log = std::make_shared<older_gate_log>();
  auto older = sys.spawn(older_gate, log);
  node_state->gate = older;
  auto first = send_create("e1");
  run();
  CAF_CHECK_EQUAL(log->dropped, 1u);
  // Unanswered at the first try's limit: the next try goes alone and is answered.
  advance_in_steps(2500ms, 100ms);
  CAF_CHECK_EQUAL(job_of(first), "job-e1");
  // From then on requests to that gate go alone at once.
  auto second = send_create("e2");
  run();
  CAF_CHECK_EQUAL(job_of(second), "job-e2");
  CAF_CHECK_EQUAL(log->dropped, 1u);
  CAF_CHECK_EQUAL(log->answered, 2u);
  self->send_exit(older, caf::exit_reason::user_shutdown);
}

CAF_TEST(a gate answers the requests of a batch in one message) {
  auto served = std::make_shared<int>(0);
  node_state->cluster = sys.spawn(answering_cluster, served);
  auto gate = spawn_mesh_gate(sys, caf::actor_cast<node_actor>(node), secret);
  forward_batch batch;
  batch.secret = secret;
  batch.cluster_id = cluster_id;
  batch.creates = {{1, create_job_request{}}, {2, create_job_request{}}};
  batch.creates[0].value.execution_id = "e1";
  batch.creates[1].value.execution_id = "e2";
  batch.polls = {{3, jobs_request{}}};
  batch.polls[0].value.machine_id = "m1";
  batch.results = {{4, job_result_post{}}};
  batch.status_waits = {{5, status_request{}}};
  caf::anon_send(gate, batch);
  run();
  CAF_CHECK_EQUAL(*served, 0); // an anonymous batch has nobody to answer: not served
  std::vector<forward_answers> received;
  auto collector = sys.spawn(
      [&received, gate, batch](caf::event_based_actor* forwarder) -> caf::behavior {
        forwarder->send(gate, batch);
        return {[&received](forward_answers& answers) { received.push_back(answers); }};
      });
  run();
  CAF_CHECK_EQUAL(*served, 5);
  CAF_REQUIRE_EQUAL(received.size(), 1u);
  const auto& answers = received.front();
  std::map<std::uint64_t, std::string> created;
  for (const auto& item : answers.created)
    created[item.id] = item.value;
  CAF_CHECK(created ==
            (std::map<std::uint64_t, std::string>{{1, "job-e1"}, {2, "job-e2"}}));
  CAF_REQUIRE_EQUAL(answers.dispatched.size(), 1u);
  CAF_CHECK_EQUAL(answers.dispatched[0].id, 3u);
  CAF_CHECK_EQUAL(answers.dispatched[0].value.at(0).id, "j-m1");
  CAF_REQUIRE_EQUAL(answers.posted.size(), 1u);
  CAF_CHECK_EQUAL(answers.posted[0].id, 4u);
  CAF_REQUIRE_EQUAL(answers.statuses.size(), 1u);
  CAF_CHECK_EQUAL(answers.statuses[0].id, 5u);
  CAF_CHECK(answers.failed.empty());
  for (auto handle : {caf::actor_cast<caf::actor>(gate), collector, node_state->cluster})
    self->send_exit(handle, caf::exit_reason::user_shutdown);
}

CAF_TEST(a gate refuses each request of a batch with a wrong secret or cluster) {
  auto served = std::make_shared<int>(0);
  node_state->cluster = sys.spawn(answering_cluster, served);
  auto gate = spawn_mesh_gate(sys, caf::actor_cast<node_actor>(node), secret);
  std::vector<forward_answers> received;
  auto send_batch = [&](const std::string& with_secret) {
    forward_batch batch;
    batch.secret = with_secret;
    batch.cluster_id = cluster_id;
    batch.creates = {{1, create_job_request{}}};
    batch.results = {{2, job_result_post{}}};
    sys.spawn(
        [&received, gate, batch](caf::event_based_actor* forwarder) -> caf::behavior {
          forwarder->send(gate, batch);
          return {[&received](forward_answers& answers) { received.push_back(answers); }};
        });
    run();
  };
  send_batch("wrong");
  CAF_CHECK_EQUAL(*served, 0);
  CAF_REQUIRE_EQUAL(received.size(), 1u);
  CAF_REQUIRE_EQUAL(received[0].failed.size(), 2u);
  for (const auto& item : received[0].failed)
    CAF_CHECK_EQUAL(code_of(item.value), error_code::unauthorized);
  // The right secret, but the cluster is not served here (any more).
  node_state->local_error = make_error(error_code::moved, "handed off");
  send_batch(secret);
  CAF_CHECK_EQUAL(*served, 0);
  CAF_REQUIRE_EQUAL(received.size(), 2u);
  CAF_REQUIRE_EQUAL(received[1].failed.size(), 2u);
  for (const auto& item : received[1].failed)
    CAF_CHECK_EQUAL(code_of(item.value), error_code::moved);
  for (auto handle : {caf::actor_cast<caf::actor>(gate), node_state->cluster})
    self->send_exit(handle, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
