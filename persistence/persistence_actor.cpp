#include "persistence/persistence_actor.hpp"

#include "metrics/catalog.hpp"
#include "persistence/connection_watchdog.hpp"
#include "persistence/errors.hpp"
#include "persistence/failure_isolation.hpp"
#include "persistence/live_jobs_loader.hpp"
#include "persistence/result_lane.hpp"
#include "persistence/sql_activity.hpp"
#include "persistence/sql_clusters.hpp"
#include "persistence/sql_jobs.hpp"
#include "persistence/sql_leases.hpp"
#include "persistence/sql_machines.hpp"
#include "persistence/sql_resource_events.hpp"
#include "persistence/sql_resources.hpp"
#include "persistence/write_batch.hpp"
#include "persistence/write_plans.hpp"

#include <caf/all.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <variant>

namespace diffplane {

namespace {

using done_promise = caf::typed_response_promise<done_atom>;
using inserted_promise = caf::typed_response_promise<bool>;

struct persistence_state {
  persistence_options options;
  std::unique_ptr<pqxx::connection> connection;
  /// A second is short enough for the plans to follow a young table's growth, and a
  /// round trip a second costs nothing measurable.
  persistence::write_plan_refresh plans{std::chrono::seconds{1}};
  /// Cuts a call into libpq that outlives its statement timeout by the grace.
  std::unique_ptr<persistence::connection_watchdog> watchdog;
  persistence::write_batch batch;
  /// One promise per write of `batch`, in the same order.
  std::vector<std::variant<done_promise, inserted_promise>> replies;
  bool flush_scheduled = false;
  /// Dispatch writes held back for options.dispatch_write_delay, by job.
  struct held_dispatch {
    job_state_write write;
    done_promise reply;
    /// The lease epoch when the write arrived (fencing).
    std::int64_t epoch;
  };
  std::unordered_map<std::string, held_dispatch> held;
  /// `held` in the order it fell due (the delay is one constant), so that a flush looks
  /// only at the writes now due rather than at every held one. An entry whose write was
  /// superseded or replaced since (another revision) is skipped.
  struct due_entry {
    std::chrono::steady_clock::time_point due;
    std::string key;
    std::int64_t revision;
  };
  std::deque<due_entry> held_order;
  bool hold_timer_pending = false;
  /// The epoch of each cluster lease the node holds (fencing).
  std::unordered_map<std::string, std::int64_t> epochs;
  /// Told about fenced writes: the sender of the lease epochs (the node).
  caf::actor lease_listener;
  /// The loads of live jobs under way, by cluster (live_jobs_loader.hpp).
  std::unordered_map<std::string, live_jobs_loader> loaders;
  /// The loads whose cluster has not asked for its first page yet: the loader (a
  /// connection) is opened only then, so that a node starting many clusters holds a
  /// connection for the few whose pages are being read, not one for every cluster.
  struct pending_load {
    timestamp_ms load_before = 0;
    caf::actor cluster;
  };
  std::unordered_map<std::string, pending_load> pending_loads;
  /// First pages asked for while max_concurrent_loads loads were under way, in the
  /// order they came: each starts its load when another one ends.
  struct waiting_load {
    live_jobs_page_request request;
    caf::typed_response_promise<live_jobs_page> promise;
  };
  std::deque<waiting_load> waiting_loads;
  /// The writer's result lane (result_lane.hpp): a linked persistence actor with a
  /// connection of its own that commits final job states beside this actor's writes.
  /// Invalid for the lane itself and for actors without one.
  persistence_actor result_lane;
  /// The clusters whose final states went to the lane since it was last drained
  /// (drain_result_lane).
  std::unordered_set<std::string> lane_clusters;
  static inline const char* name = "diffplane.persistence";

  persistence_state() = default;
  persistence_state(const persistence_state&) = delete;
  persistence_state& operator=(const persistence_state&) = delete;
  ~persistence_state();
};

using self_pointer = persistence_actor::stateful_pointer<persistence_state>;

/// The first line of a database error: its DETAIL lines may quote row values (secrets
/// included), and a log line must stay one line.
std::string first_line(const char* message) {
  std::string text{message};
  auto end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

pqxx::connection& connection_of(persistence_state& st) {
  if (!st.connection || !st.connection->is_open()) {
    st.connection.reset();
    st.connection = std::make_unique<pqxx::connection>(st.options.database_url);
    // Group commit's statements are prepared (sql::exec_prepared). A writer's session
    // plans for them, and gives its reads the usual planner back (read()); a reader's
    // plans each statement for its own parameters.
    if (st.options.plans_for_writes)
      persistence::plan_for_writes(*st.connection);
    else
      st.connection->set_variable("plan_cache_mode", "force_custom_plan");
    st.plans.reset(std::chrono::steady_clock::now());
  }
  return *st.connection;
}

void deliver(std::variant<done_promise, inserted_promise>& reply,
             const persistence::write_outcome& outcome) {
  if (auto* done = std::get_if<done_promise>(&reply))
    done->deliver(done_atom::value);
  else
    std::get<inserted_promise>(reply).deliver(outcome.inserted);
}

void fail(std::variant<done_promise, inserted_promise>& reply, const caf::error& err) {
  std::visit([&](auto& promise) { promise.deliver(err); }, reply);
}

/// The longest a call may take before the watchdog cuts it: its statement timeout and
/// the grace, or no limit without a timeout.
std::chrono::milliseconds call_limit(const persistence_state& st,
                                     std::chrono::milliseconds statement_timeout) {
  return statement_timeout.count() == 0 ? statement_timeout
                                        : statement_timeout + st.options.watchdog_grace;
}

/// Whether `e` is Postgres cancelling a statement (statement_timeout): the statement's
/// transaction did not commit.
bool cancelled(const std::exception& e) {
  auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  return sql != nullptr && sql->sqlstate() == "57014";
}

/// Whether the watchdog cut the connection during the last call: whatever libpq threw
/// then, the connection is gone.
bool cut(persistence_state& st) {
  return st.watchdog && st.watchdog->fired();
}

std::string no_answer_message(std::chrono::milliseconds statement_timeout) {
  return "the database did not answer within " +
         std::to_string(statement_timeout.count()) + " ms";
}

bool fencing(const persistence_state& st) {
  return !st.options.node_id.empty();
}

/// The epoch under which a write of `cluster_id` arriving now is fenced: the lease the
/// node holds, or -1 (no lease has it, so the write is refused) when it holds none. A
/// write of no cluster (a new one, an empty list) is not fenced.
std::int64_t epoch_for(const persistence_state& st, const std::string& cluster_id) {
  if (!fencing(st) || cluster_id.empty())
    return 0;
  auto it = st.epochs.find(cluster_id);
  return it == st.epochs.end() ? -1 : it->second;
}

/// Thrown by commit when writes of the batch belong to leases the node no longer holds:
/// the transaction is rolled back, and those writes fail while the others are retried.
struct fenced_writes : std::runtime_error {
  explicit fenced_writes(std::vector<std::string> fenced)
      : std::runtime_error("fenced"), clusters(std::move(fenced)) {}
  std::vector<std::string> clusters;
};

void commit(persistence_state& st, const persistence::write_batch& batch,
            std::vector<persistence::write_outcome>& outcomes) {
  auto& connection = connection_of(st);
  persistence::connection_watchdog::watch watched{
      *st.watchdog, connection.sock(), call_limit(st, st.options.statement_timeout)};
  if (st.options.plans_for_writes)
    st.plans.before_use(connection, std::chrono::steady_clock::now());
  auto fences = fencing(st) ? batch.fences() : std::vector<held_lease>{};
  if (!fences.empty() && batch.one_statement()) {
    // The statement checks and locks the leases itself and commits on its own: one
    // round trip instead of four (BEGIN, the check, the writes, COMMIT), which count once
    // per commit and so once per owning node.
    pqxx::nontransaction txn{connection, "group_commit"};
    auto fenced = batch.execute_fenced(txn, st.options.node_id, outcomes);
    if (!fenced.empty())
      throw fenced_writes{std::move(fenced)};
    return;
  }
  if (!fences.empty()) {
    // The check locks the lease rows until the commit: an acquisition by another node
    // waits for this transaction, and its load then sees these writes.
    pqxx::work txn{connection, "group_commit"};
    auto fenced = persistence::sql::fenced_clusters(txn, st.options.node_id, fences);
    if (!fenced.empty())
      throw fenced_writes{std::move(fenced)};
    outcomes = batch.execute(txn);
    txn.commit();
    return;
  }
  if (batch.one_statement()) {
    // A statement outside a transaction commits on its own: one round trip to Postgres
    // instead of three (BEGIN, the statement, COMMIT). Each one waits for Postgres's
    // backend to get a core, and every caller of the batch waits for all of them.
    pqxx::nontransaction txn{connection, "group_commit"};
    outcomes = batch.execute(txn);
    return;
  }
  pqxx::work txn{connection, "group_commit"};
  outcomes = batch.execute(txn);
  txn.commit();
}

/// The held write `entry` names, if it is still held.
auto still_held(persistence_state& st, const persistence_state::due_entry& entry) {
  auto it = st.held.find(entry.key);
  return it != st.held.end() && it->second.write.revision == entry.revision
             ? it
             : st.held.end();
}

void move_to_batch(persistence_state& st, persistence_state::held_dispatch& held) {
  st.batch.fence(st.batch.add(std::move(held.write)), held.epoch);
  st.replies.emplace_back(std::in_place_type<done_promise>, held.reply);
}

caf::error lease_lost_error(const std::string& cluster_id) {
  return make_error(error_code::unavailable, "this node no longer holds the lease of "
                                             "cluster " +
                                                 cluster_id + "; retry");
}

/// Answers the writes of `batch` sent under leases of `clusters` with an error, tells
/// the node, and returns the indices of the other writes.
std::vector<std::size_t>
refuse_fenced(persistence_state& st, const persistence::write_batch& batch,
              std::vector<std::variant<done_promise, inserted_promise>>& replies,
              const std::vector<std::string>& clusters) {
  std::vector<std::size_t> kept;
  std::unordered_map<std::string, std::int64_t> told;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& cluster = batch.cluster_of(i);
    if (batch.epoch_of(i) == 0 ||
        std::find(clusters.begin(), clusters.end(), cluster) == clusters.end()) {
      kept.push_back(i);
      continue;
    }
    fail(replies[i], lease_lost_error(cluster));
    metrics::leases().fenced_writes.add();
    told.emplace(cluster, batch.epoch_of(i));
  }
  for (const auto& [cluster, epoch] : told) {
    spdlog::warn("event=writes_fenced actor={} cluster={} epoch={}", st.options.name,
                 cluster, epoch);
    if (st.lease_listener)
      caf::anon_send(st.lease_listener, fenced_atom::value, cluster, epoch);
  }
  return kept;
}

/// Moves every held dispatch write into the batch (a read or the end is coming).
void release_all_held(persistence_state& st) {
  for (auto& [key, held] : st.held)
    move_to_batch(st, held);
  st.held.clear();
  st.held_order.clear();
}

/// Moves the held dispatch writes due by `now` into the batch.
void release_due_held(persistence_state& st, std::chrono::steady_clock::time_point now) {
  while (!st.held_order.empty() && st.held_order.front().due <= now) {
    if (auto it = still_held(st, st.held_order.front()); it != st.held.end()) {
      move_to_batch(st, it->second);
      st.held.erase(it);
    }
    st.held_order.pop_front();
  }
}

/// When the next held write falls due, dropping entries of writes no longer held.
std::optional<std::chrono::steady_clock::time_point> next_due(persistence_state& st) {
  while (!st.held_order.empty() && still_held(st, st.held_order.front()) == st.held.end())
    st.held_order.pop_front();
  if (st.held_order.empty())
    return std::nullopt;
  return st.held_order.front().due;
}

/// Keeps exactly one timer while dispatches are held, set for the earliest of them.
void arm_hold_timer(self_pointer self) {
  auto& st = self->state;
  if (st.hold_timer_pending)
    return;
  auto next = next_due(st);
  if (!next)
    return;
  st.hold_timer_pending = true;
  self->delayed_send(
      self, std::max(*next - self->clock().now(), std::chrono::steady_clock::duration{0}),
      held_due_atom::value);
}

/// Commits the writes [begin, end) of a failed batch in one transaction and answers
/// their writers when it commits; a lone write's writer is answered when the database
/// refuses it too. A replay is safe whether or not the failed batch committed: state
/// writes land only over older revisions, upserts repeat, an insert of an execution id
/// that exists is reported as not new, and an insert of a generated id that exists can
/// only be this batch's own, so it committed.
persistence::range_outcome
commit_part(persistence_state& st, const persistence::write_batch& batch,
            std::size_t begin, std::size_t end,
            std::vector<std::variant<done_promise, inserted_promise>>& replies) {
  using persistence::range_outcome;
  bool lone = end - begin == 1;
  auto refused = [&](const std::exception& e) {
    if (!lone)
      return range_outcome::refused;
    spdlog::error("event=write_failed actor={} reason=\"{}\"", st.options.name,
                  first_line(e.what()));
    fail(replies[begin],
         make_error(error_code::internal, "the database refused a write"));
    return range_outcome::refused;
  };
  try {
    std::vector<persistence::write_outcome> outcomes;
    commit(st, batch.slice(begin, end), outcomes);
    for (auto i = begin; i < end; ++i)
      deliver(replies[i], outcomes[i - begin]);
    return range_outcome::committed;
  } catch (const fenced_writes& e) {
    if (lone) {
      auto part = batch.slice(begin, end);
      std::vector<std::variant<done_promise, inserted_promise>> reply{replies[begin]};
      refuse_fenced(st, part, reply, e.clusters);
    }
    return range_outcome::refused;
  } catch (const pqxx::unique_violation& e) {
    if (lone && batch.is_generated_job(begin)) {
      deliver(replies[begin], persistence::write_outcome{true, true});
      return range_outcome::committed;
    }
    return refused(e);
  } catch (const pqxx::broken_connection&) {
    st.connection.reset();
    return range_outcome::database_down;
  } catch (const pqxx::in_doubt_error&) {
    st.connection.reset();
    return range_outcome::database_down;
  } catch (const std::exception& e) {
    if (cancelled(e) || cut(st)) {
      // Too slow or gone: each further write would wait as long again.
      if (cut(st))
        st.connection.reset();
      return range_outcome::database_down;
    }
    return refused(e);
  }
}

/// Commits the writes of a failed batch apart, so that the writes that failed it fail
/// alone: in halves when the database refused it (nothing of it committed), one at a
/// time when its commit is in doubt (each write must learn whether it had landed).
void replay(persistence_state& st, const persistence::write_batch& batch,
            std::vector<std::variant<done_promise, inserted_promise>>& replies,
            bool in_doubt) {
  auto commit_range = [&](std::size_t begin, std::size_t end) {
    return commit_part(st, batch, begin, end, replies);
  };
  auto abandon = [&](std::size_t begin, std::size_t end) {
    auto unavailable = make_error(error_code::unavailable, "the database is unavailable");
    for (auto i = begin; i < end; ++i)
      fail(replies[i], unavailable);
  };
  auto transactions =
      in_doubt ? persistence::commit_one_by_one(replies.size(), commit_range, abandon)
               : persistence::commit_in_halves(replies.size(), commit_range, abandon);
  metrics::persistence().replay_transactions.add(transactions);
}

/// Commits the gathered writes in one transaction and answers every writer. When it
/// fails, or its connection is lost before Postgres confirmed the commit, its writes
/// are replayed apart (replay).
void flush(persistence_state& st) {
  st.flush_scheduled = false;
  if (st.batch.empty())
    return;
  auto batch = std::move(st.batch);
  auto replies = std::move(st.replies);
  st.batch = {};
  st.replies.clear();
  auto started = std::chrono::steady_clock::now();
  std::vector<persistence::write_outcome> outcomes;
  auto& stats = metrics::persistence();
  try {
    connection_of(st);
  } catch (const std::exception& e) {
    // Nothing was sent, so nothing can have committed: no replay, whose first write
    // would only wait for another connection attempt (--database-connect-timeout).
    stats.failed_batches.add();
    spdlog::error("event=group_commit_failed actor={} writes={} reason=\"no connection: "
                  "{}\" action=fail_batch",
                  st.options.name, batch.size(), first_line(e.what()));
    auto err = make_error(error_code::unavailable, "the database is unavailable");
    for (auto& reply : replies)
      fail(reply, err);
    return;
  }
  for (;;) {
    try {
      commit(st, batch, outcomes);
      for (std::size_t i = 0; i < replies.size(); ++i)
        deliver(replies[i], outcomes[i]);
      auto seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
              .count();
      stats.batches.add();
      stats.writes.add(batch.size());
      stats.batch_writes.observe(static_cast<double>(batch.size()));
      stats.commit_seconds.observe(seconds);
      spdlog::trace("event=group_commit actor={} writes={} seconds={}", st.options.name,
                    batch.size(), seconds);
      return;
    } catch (const fenced_writes& e) {
      // Nothing committed: the other writes go again without the fenced ones.
      auto kept = refuse_fenced(st, batch, replies, e.clusters);
      std::vector<std::variant<done_promise, inserted_promise>> kept_replies;
      for (auto i : kept)
        kept_replies.push_back(std::move(replies[i]));
      batch = batch.select(kept);
      replies = std::move(kept_replies);
      if (batch.empty())
        return;
      continue;
    } catch (const pqxx::broken_connection& e) {
      st.connection.reset();
      stats.failed_batches.add();
      spdlog::error(
          "event=group_commit_failed actor={} writes={} reason=\"connection lost: "
          "{}\" action=reconnect_and_replay",
          st.options.name, batch.size(), first_line(e.what()));
    } catch (const pqxx::in_doubt_error& e) {
      st.connection.reset();
      stats.failed_batches.add();
      spdlog::error(
          "event=group_commit_failed actor={} writes={} reason=\"commit in doubt: "
          "{}\" action=reconnect_and_replay",
          st.options.name, batch.size(), first_line(e.what()));
    } catch (const std::exception& e) {
      stats.failed_batches.add();
      if (cancelled(e)) {
        // Postgres cancelled the batch (statement_timeout), so nothing of it committed;
        // replaying it one write at a time would wait the timeout once per write.
        spdlog::error("event=group_commit_failed actor={} writes={} reason=\"{}\" "
                      "action=fail_batch",
                      st.options.name, batch.size(), first_line(e.what()));
        auto err = make_error(error_code::unavailable,
                              no_answer_message(st.options.statement_timeout));
        for (auto& reply : replies)
          fail(reply, err);
        return;
      }
      if (cut(st)) {
        // The watchdog cut the connection: as good as lost, the commit in doubt.
        st.connection.reset();
        spdlog::error("event=group_commit_failed actor={} writes={} reason=\"{}\" "
                      "action=reconnect_and_replay",
                      st.options.name, batch.size(),
                      no_answer_message(call_limit(st, st.options.statement_timeout)));
      } else {
        // The database refused a write of it and rolled it back: find that write.
        spdlog::warn("event=group_commit_failed actor={} writes={} reason=\"{}\" "
                     "action=retry_in_halves",
                     st.options.name, batch.size(), first_line(e.what()));
        replay(st, batch, replies, false);
        return;
      }
    }
    break;
  }
  replay(st, batch, replies, true);
}

/// Adds one write to the batch; it is committed when the mailbox holds no more writes
/// (the flush message queues behind them) or when the batch is full.
template <class Row, class Reply> caf::result<Reply> gather(self_pointer self, Row row) {
  auto& st = self->state;
  auto promise = self->make_response_promise<Reply>();
  auto index = st.batch.add(std::move(row));
  // A new cluster has no lease yet: its insert is not fenced.
  if constexpr (!std::is_same_v<Row, cluster_record>)
    st.batch.fence(index, epoch_for(st, st.batch.cluster_of(index)));
  if constexpr (std::is_same_v<Reply, bool>)
    st.replies.emplace_back(std::in_place_type<inserted_promise>, promise);
  else
    st.replies.emplace_back(std::in_place_type<done_promise>, promise);
  if (st.batch.size() >= st.options.max_batch_items) {
    flush(st);
  } else if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
  return promise;
}

/// Whether a job's final state commits on the result lane. Only when this actor's open
/// batch is empty: every write sent here before has then committed (this actor commits
/// in order), the job's insert above all, which the lane's update must find; and no
/// live_jobs move is open, whose snapshot could see the job live while the lane's
/// delete of its live_jobs row could not see the move's insert (a row left behind). A
/// held dispatch of the job was superseded before. And only when nothing else waits in
/// the mailbox: a final state that comes while writes queue here (a busy writer) joins
/// them, one commit for all, as a commit of its own on the lane would cost Postgres and
/// the server more per job than it saves in latency.
bool takes_to_result_lane(self_pointer self, const job_state_write& row) {
  auto& st = self->state;
  return st.result_lane && is_terminal(row.status) && st.batch.empty() &&
         self->mailbox().empty();
}

/// Waits until every write this actor sent to its result lane has been answered (the
/// lane commits in order, so its answer to a ping follows theirs), or only when one of
/// them was of `cluster` if given; an error when the lane did not answer. Blocks this
/// actor's thread, which is its own (detached).
caf::error drain_result_lane(self_pointer self, const std::string* cluster = nullptr) {
  auto& st = self->state;
  if (!st.result_lane || st.lane_clusters.empty() ||
      (cluster != nullptr && st.lane_clusters.count(*cluster) == 0))
    return {};
  caf::error failure;
  caf::scoped_actor waiter{self->system()};
  waiter->request(st.result_lane, caf::infinite, ping_atom::value)
      .receive([](done_atom) {}, [&](caf::error& err) { failure = std::move(err); });
  if (failure) {
    spdlog::error("event=result_lane_drain_failed actor={} reason=\"{}\"",
                  st.options.name, self->system().render(failure));
    return make_error(error_code::unavailable,
                      "the result lane of the writer did not answer; see the server log");
  }
  st.lane_clusters.clear();
  return {};
}

/// A job's state write. A dispatch is held back for a moment: if the job's next state
/// comes first (a fast worker), the dispatch is answered without being written, as the
/// newer state carries everything it would have. A crash in that moment loses only the
/// record that the attempt began, so the job runs again without the attempt counting.
caf::result<done_atom> write_job_state(self_pointer self, job_state_write& row) {
  auto& st = self->state;
  auto key = row.cluster_id + '/' + row.id;
  if (auto it = st.held.find(key);
      it != st.held.end() && it->second.write.revision < row.revision) {
    it->second.reply.deliver(done_atom::value);
    st.held.erase(it);
  }
  if (takes_to_result_lane(self, row)) {
    // Its lane fences it under the epoch it has been told last, which is this actor's:
    // both hear of every epoch in the same order as of the writes (lease_epoch_atom).
    st.lane_clusters.insert(row.cluster_id);
    return self->delegate(st.result_lane, std::move(row));
  }
  if (row.status != job_status::running || st.options.dispatch_write_delay.count() == 0)
    return gather<job_state_write, done_atom>(self, std::move(row));
  auto reply = self->make_response_promise<done_atom>();
  auto due = self->clock().now() + st.options.dispatch_write_delay;
  st.held_order.push_back(persistence_state::due_entry{due, key, row.revision});
  auto epoch = epoch_for(st, row.cluster_id);
  st.held.insert_or_assign(
      std::move(key), persistence_state::held_dispatch{std::move(row), reply, epoch});
  arm_hold_timer(self);
  return reply;
}

// Writes and answers what is still gathered or held when the actor stops. This cannot be
// a functor attached to the actor: CAF destroys a stateful actor's state before it runs
// those, so one that flushed wrote into freed memory on every shutdown.
persistence_state::~persistence_state() {
  try {
    release_all_held(*this);
    flush(*this);
  } catch (const std::exception& e) {
    spdlog::error("event=final_flush_failed actor={} reason=\"{}\"", options.name,
                  first_line(e.what()));
  }
}

/// Runs a read after the pending writes, mapping database failures to error values.
template <class Fn>
auto read(self_pointer self, Fn fn)
    -> caf::result<decltype(fn(std::declval<pqxx::work&>()))> {
  auto& st = self->state;
  // A read must see every write sent before it, held dispatches included, and the
  // final states sent on to the result lane.
  release_all_held(st);
  flush(st);
  if (auto err = drain_result_lane(self))
    return err;
  auto timeout = st.options.read_statement_timeout;
  for (int attempt = 0;; ++attempt) {
    // A connection that broke while idle (Postgres restarted, its backend was ended)
    // fails its next use: one more try on a new connection tells that apart from a
    // database that is down. Reads change nothing, so trying again is safe.
    bool reused = st.connection && st.connection->is_open();
    try {
      auto& connection = connection_of(st);
      persistence::connection_watchdog::watch watched{*st.watchdog, connection.sock(),
                                                      call_limit(st, timeout)};
      pqxx::work txn{connection, "read"};
      // The transaction's settings, in one round trip.
      std::string settings =
          st.options.plans_for_writes ? persistence::plan_for_reads : "";
      if (timeout != st.options.statement_timeout)
        settings += std::string{settings.empty() ? "" : "; "} +
                    "SET LOCAL statement_timeout = " + std::to_string(timeout.count());
      if (!settings.empty())
        txn.exec(settings);
      auto result = fn(txn);
      txn.commit();
      return result;
    } catch (const pqxx::broken_connection&) {
      st.connection.reset();
      if (reused && attempt == 0 && !cut(st))
        continue;
      return make_error(error_code::unavailable, "the database is unavailable");
    } catch (const std::exception& e) {
      if (cancelled(e) || cut(st)) {
        if (cut(st))
          st.connection.reset();
        spdlog::error("event=read_failed actor={} reason=\"{}\"", st.options.name,
                      no_answer_message(timeout));
        return make_error(error_code::unavailable, no_answer_message(timeout));
      }
      spdlog::error("event=read_failed actor={} reason=\"{}\"", st.options.name,
                    first_line(e.what()));
      return make_error(error_code::unavailable,
                        "the database could not answer; see the server log");
    }
  }
}

/// Opens the snapshot of a cluster's live jobs and spawns its loader; throws what
/// opening the snapshot throws. Opened at the cluster's first page, after it began to
/// serve: the jobs it created since are after `load_before`, which the cursors leave
/// out, and it has changed no job it has not loaded (requests that could concern one
/// wait for the end of the load), so the snapshot holds each live job once, as it was
/// when the cluster took it over.
auto start_load(self_pointer self, const std::string& cluster_id,
                timestamp_ms load_before, const caf::actor& cluster) {
  auto& st = self->state;
  live_jobs_load load;
  load.database_url = st.options.database_url;
  load.cluster_id = cluster_id;
  load.load_before = load_before;
  load.cluster = cluster;
  load.session_statement_timeout = st.options.statement_timeout;
  load.statement_timeout = st.options.read_statement_timeout;
  load.watchdog_grace = st.options.watchdog_grace;
  auto loader = spawn_live_jobs_loader(self->system(), std::move(load));
  self->monitor(loader);
  return st.loaders.insert_or_assign(cluster_id, std::move(loader)).first;
}

/// Starts the pending load of `cluster_id`; an error when none is pending or its
/// snapshot cannot be opened.
caf::expected<live_jobs_loader> start_pending_load(self_pointer self,
                                                   const std::string& cluster_id) {
  auto& st = self->state;
  auto pending = st.pending_loads.extract(cluster_id);
  if (pending.empty())
    return make_error(error_code::unavailable,
                      "no load of the live jobs of cluster " + cluster_id +
                          " is under way");
  try {
    return start_load(self, cluster_id, pending.mapped().load_before,
                      pending.mapped().cluster)
        ->second;
  } catch (const std::exception& e) {
    spdlog::error("event=read_failed actor={} reason=\"{}\"", st.options.name,
                  first_line(e.what()));
    return make_error(error_code::unavailable,
                      "the live jobs could not be read; see the server log");
  }
}

/// Starts the load a first page asks for and hands the page request to its loader.
caf::result<live_jobs_page> begin_load(self_pointer self,
                                       const live_jobs_page_request& request) {
  auto loader = start_pending_load(self, request.cluster_id);
  if (!loader)
    return loader.error();
  return self->delegate(*loader, request);
}

bool load_slot_free(const persistence_state& st) {
  return st.loaders.size() < std::max<std::size_t>(st.options.max_concurrent_loads, 1);
}

/// Starts the waiting loads a slot is free for, oldest first.
void start_waiting_loads(self_pointer self) {
  auto& st = self->state;
  while (load_slot_free(st) && !st.waiting_loads.empty()) {
    auto waiting = std::move(st.waiting_loads.front());
    st.waiting_loads.pop_front();
    if (auto loader = start_pending_load(self, waiting.request.cluster_id))
      waiting.promise.delegate(*loader, waiting.request);
    else
      waiting.promise.deliver(loader.error());
  }
}

persistence_actor::behavior_type persistence_behavior(self_pointer self,
                                                      persistence_options options,
                                                      bool with_result_lane) {
  auto& st = self->state;
  st.options = std::move(options);
  if (with_result_lane) {
    // Linked: the node monitors this actor only, and restarts both when either ends.
    auto lane_options = st.options;
    lane_options.name = st.options.name + "_results";
    st.result_lane = self->spawn<caf::detached + caf::linked>(
        persistence_behavior, std::move(lane_options), false);
  }
  // The thread looks at the watched call four times per shortest limit, so a call is
  // cut at most a quarter late; without timeouts there is no thread.
  auto shortest = std::min(call_limit(st, st.options.statement_timeout),
                           call_limit(st, st.options.read_statement_timeout));
  if (shortest.count() == 0)
    shortest = std::max(call_limit(st, st.options.statement_timeout),
                        call_limit(st, st.options.read_statement_timeout));
  auto tick = shortest.count() == 0
                  ? shortest
                  : std::max(shortest / 4, std::chrono::milliseconds{50});
  st.watchdog = std::make_unique<persistence::connection_watchdog>(tick, st.options.name);
  // A loader that ended (its last page, a failure, its cluster gone) leaves the map.
  self->set_down_handler([self](caf::down_msg& down) {
    auto& loaders = self->state.loaders;
    for (auto it = loaders.begin(); it != loaders.end(); ++it)
      if (it->second.address() == down.source) {
        loaders.erase(it);
        start_waiting_loads(self);
        return;
      }
  });
  return {
      [=](cluster_record& row) {
        return gather<cluster_record, done_atom>(self, std::move(row));
      },
      [=](cluster_settings_write& row) {
        return gather<cluster_settings_write, done_atom>(self, std::move(row));
      },
      [=](job_record& row) { return gather<job_record, bool>(self, std::move(row)); },
      [=](job_state_write& row) { return write_job_state(self, row); },
      [=](live_jobs_move& row) -> caf::result<done_atom> {
        // The move must see the final states of its cluster sent before it committed
        // (else it moves finished jobs into live_jobs, their delete having missed the
        // new rows: a row left behind, harmless to loads but never deleted).
        if (auto err = drain_result_lane(self, &row.cluster_id))
          return err;
        return gather<live_jobs_move, done_atom>(self, std::move(row));
      },
      [=](machine_record& row) {
        return gather<machine_record, done_atom>(self, std::move(row));
      },
      [=](service_record& row) {
        return gather<service_record, done_atom>(self, std::move(row));
      },
      [=](std::vector<event_record>& rows) {
        return gather<std::vector<event_record>, done_atom>(self, std::move(rows));
      },
      [=](std::vector<client_event_record>& rows) {
        return gather<std::vector<client_event_record>, done_atom>(self, std::move(rows));
      },
      [=](resource_write& write) {
        return gather<resource_write, done_atom>(self, std::move(write));
      },
      [=](load_resources_atom, const std::string& cluster_id) {
        return read(self, [&](pqxx::work& txn) {
          return persistence::sql::load_resources(txn, cluster_id);
        });
      },
      [=](const resource_query& query) {
        return read(self, [&](pqxx::work& txn) {
          return persistence::sql::query_resources(txn, query);
        });
      },
      [=](const resource_counts_query& query) {
        return read(self, [&](pqxx::work& txn) {
          return persistence::sql::count_resources(txn, query);
        });
      },
      [=](const resource_events_request& request) {
        return read(self, [&](pqxx::work& txn) {
          return persistence::sql::read_resource_events(txn, request);
        });
      },
      [=](load_clusters_atom) {
        return read(self,
                    [](pqxx::work& txn) { return persistence::sql::load_clusters(txn); });
      },
      [=](load_cluster_atom, const std::string& cluster_id, timestamp_ms cache_since) {
        auto cluster = caf::actor_cast<caf::actor>(self->current_sender());
        return read(self, [&](pqxx::work& txn) {
          cluster_snapshot snapshot;
          snapshot.cluster = persistence::sql::load_cluster(txn, cluster_id);
          snapshot.services = persistence::sql::load_services(txn, cluster_id);
          snapshot.machines = persistence::sql::load_machines(txn, cluster_id);
          snapshot.live_jobs_before = persistence::sql::live_jobs_before(txn, cluster_id);
          snapshot.load_before = persistence::sql::jobs_created_before(txn, cluster_id);
          snapshot.cache_entries =
              persistence::sql::load_cache_entries(txn, cluster_id, cache_since);
          // The pages follow from a snapshot of their own, opened at the first one
          // (start_load); an earlier load of the cluster (a restarted actor) ends.
          auto& st = self->state;
          if (auto it = st.loaders.find(cluster_id); it != st.loaders.end()) {
            self->send_exit(it->second, caf::exit_reason::user_shutdown);
            st.loaders.erase(it);
            start_waiting_loads(self);
          }
          // So does a first page the earlier actor still waits for a turn with.
          auto& waiting = st.waiting_loads;
          for (auto it = waiting.begin(); it != waiting.end();)
            if (it->request.cluster_id == cluster_id) {
              it->promise.deliver(make_error(error_code::unavailable,
                                             "a newer load of cluster " + cluster_id +
                                                 " replaced this one"));
              it = waiting.erase(it);
            } else {
              ++it;
            }
          st.pending_loads.insert_or_assign(
              cluster_id, persistence_state::pending_load{snapshot.load_before, cluster});
          return snapshot;
        });
      },
      [=](const live_jobs_page_request& request) -> caf::result<live_jobs_page> {
        auto& st = self->state;
        if (auto it = st.loaders.find(request.cluster_id); it != st.loaders.end())
          return self->delegate(it->second, request);
        if (load_slot_free(st) || st.pending_loads.count(request.cluster_id) == 0)
          return begin_load(self, request);
        auto promise = self->make_response_promise<live_jobs_page>();
        st.waiting_loads.push_back({request, promise});
        spdlog::info("event=load_waiting cluster={} loads_under_way={} waiting={}",
                     request.cluster_id, st.loaders.size(), st.waiting_loads.size());
        return promise;
      },
      [=](fetch_statuses_atom, const std::string& cluster_id,
          const std::vector<std::string>& ids) {
        return read(self, [&](pqxx::work& txn) {
          return persistence::sql::fetch_job_statuses(txn, cluster_id, ids);
        });
      },
      [=](latest_jobs_atom, const std::string& cluster_id, const std::string& service,
          std::int32_t limit) {
        return read(self, [&](pqxx::work& txn) {
          return persistence::sql::latest_jobs(txn, cluster_id, service, limit);
        });
      },
      [=](fetch_job_atom, const std::string& cluster_id, const std::string& id) {
        return read(self, [&](pqxx::work& txn) {
          return persistence::sql::fetch_job(txn, cluster_id, id);
        });
      },
      [=](const activity_query& query) {
        return read(self, [&](pqxx::work& txn) {
          return persistence::sql::activity(txn, query);
        });
      },
      [=](const cached_resolution_query& query) {
        return read(self, [&](pqxx::work& txn) {
          return persistence::sql::find_cached_resolution(txn, query);
        });
      },
      [=](const metrics_query& query) {
        return read(self, [&](pqxx::work& txn) {
          return persistence::sql::service_metrics(txn, query);
        });
      },
      [=](prune_atom, std::int32_t activity_hours, std::int32_t machine_hours) {
        return read(self, [&](pqxx::work& txn) {
          return (activity_hours > 0
                      ? persistence::sql::prune_events(txn, activity_hours) +
                            persistence::sql::prune_resource_events(txn, activity_hours)
                      : 0) +
                 (machine_hours > 0 ? persistence::sql::prune_machines(txn, machine_hours)
                                    : 0);
        });
      },
      [=](ping_atom) {
        return read(self, [](pqxx::work& txn) {
          txn.exec("SELECT 1");
          return done_atom::value;
        });
      },
      [=](lease_epoch_atom, const std::string& cluster_id, std::int64_t epoch) {
        auto& st = self->state;
        if (epoch == 0)
          st.epochs.erase(cluster_id);
        else
          st.epochs[cluster_id] = epoch;
        st.lease_listener = caf::actor_cast<caf::actor>(self->current_sender());
        // The lane fences too, and tells the same listener (the sender stays the node's).
        if (st.result_lane)
          self->delegate(st.result_lane, lease_epoch_atom::value, cluster_id, epoch);
      },
      [=](flush_atom) {
        auto& st = self->state;
        // A commit is coming anyway: take along the held dispatches already due.
        release_due_held(st, self->clock().now());
        flush(st);
      },
      [=](held_due_atom) {
        auto& st = self->state;
        st.hold_timer_pending = false;
        release_due_held(st, self->clock().now());
        flush(st);
        arm_hold_timer(self);
      },
  };
}

} // namespace

persistence_actor spawn_persistence(caf::actor_system& system,
                                    persistence_options options) {
  return system.spawn<caf::detached>(persistence_behavior, std::move(options), false);
}

persistence_actor spawn_writer(caf::actor_system& system, persistence_options options) {
  return system.spawn<caf::detached>(persistence_behavior, std::move(options), true);
}

} // namespace diffplane
