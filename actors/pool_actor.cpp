#include "actors/pool_actor.hpp"

#include "actors/activity.hpp"
#include "actors/expiry_schedule.hpp"
#include "actors/job_actor.hpp"
#include "actors/job_lifecycle.hpp"
#include "metrics/catalog.hpp"
#include "persistence/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace diffplane {

namespace {

using jobs_promise = caf::typed_response_promise<std::vector<dispatched_job>>;

struct parked_poll {
  jobs_promise promise;
  std::string machine_id;
  std::int32_t limit = 1;
  /// When its ttl runs out (its entry in pool_state::poll_expiries).
  caf::actor_clock::time_point expires_at;
};

using poll_expiry_schedule = expiry_schedule<caf::actor_clock::time_point>;

/// When each running attempt times out, soonest first.
using attempt_deadlines = std::multimap<caf::actor_clock::time_point, std::string>;

struct running_attempt {
  /// The attempt's actor; none for an ephemeral job, whose attempt the pool runs itself.
  job_actor attempt;
  /// An ephemeral job as its attempt runs: it has nothing to write and no timer beyond
  /// its deadline here, so an actor of its own (a spawn, and four messages more per
  /// call) bought nothing.
  std::unique_ptr<job_record> ephemeral;
  std::string machine_id;
  std::int32_t attempt_number = 0;
  attempt_deadlines::iterator deadline;
};

struct pool_state {
  pool_context context;
  std::deque<job_record> pending;
  /// Keyed by arrival, so the longest-waiting poll is served first.
  std::map<std::uint64_t, parked_poll> parked;
  std::uint64_t next_poll_id = 1;
  poll_expiry_schedule poll_expiries;
  std::unordered_map<std::string, running_attempt> running;
  /// The pool times its attempts out, not each attempt itself: a timer per attempt
  /// would keep the finished attempt's actor alive in CAF's clock until the timeout
  /// (300 s by default), about 2 KB per job.
  attempt_deadlines deadlines;
  bool timeout_check_scheduled = false;
  bool dispatch_scheduled = false;
  static inline const char* name = "diffplane.pool";

  pool_state() = default;
  pool_state(const pool_state&) = delete;
  ~pool_state() {
    // Polls still parked when the pool dies are broken promises; stop counting them.
    context.parked.unpark(parked.size());
    metrics::jobs().pending.add(-static_cast<std::int64_t>(pending.size()));
    metrics::jobs().running.add(-static_cast<std::int64_t>(running.size()));
    // The attempts end with their pool; the cluster reloads them from Postgres.
    for (auto& [id, attempt] : running)
      if (!attempt.ephemeral)
        caf::anon_send_exit(attempt.attempt, caf::exit_reason::kill);
  }
};

using self_pointer = pool_actor::stateful_pointer<pool_state>;

/// How often a pool with running attempts looks for timed out ones: timeouts are whole
/// seconds, and one fires at most this much late.
constexpr auto timeout_check_interval = std::chrono::seconds{1};

void schedule_timeout_check(self_pointer self) {
  auto& st = self->state;
  if (st.timeout_check_scheduled || st.deadlines.empty())
    return;
  st.timeout_check_scheduled = true;
  self->delayed_send(self, timeout_check_interval, check_timeouts_atom::value);
}

void stall_ephemeral(self_pointer self, job_record& job, const std::string& reason);
void schedule_dispatch(self_pointer self);

void check_timeouts(self_pointer self) {
  auto& st = self->state;
  st.timeout_check_scheduled = false;
  auto now = self->clock().now();
  while (!st.deadlines.empty() && st.deadlines.begin()->first <= now) {
    auto it = st.running.find(st.deadlines.begin()->second);
    st.deadlines.erase(st.deadlines.begin());
    if (it == st.running.end())
      continue;
    it->second.deadline = st.deadlines.end();
    if (it->second.ephemeral)
      stall_ephemeral(self, *it->second.ephemeral, "timeout");
    else
      self->send(it->second.attempt, job_timeout_atom::value, it->second.attempt_number);
  }
  schedule_timeout_check(self);
}

/// Forgets a running attempt and its deadline and releases its actor: no result can be
/// forwarded to it after this (they are refused here), so it may exit. False if it was
/// not running.
bool end_attempt(self_pointer self, const std::string& job_id) {
  auto& st = self->state;
  auto it = st.running.find(job_id);
  if (it == st.running.end())
    return false;
  if (it->second.deadline != st.deadlines.end())
    st.deadlines.erase(it->second.deadline);
  if (!it->second.ephemeral)
    self->send(it->second.attempt, release_atom::value);
  st.running.erase(it);
  return true;
}

/// A stalled attempt's job goes back to pending: its attempt is forgotten, the cluster
/// hears of the status and the job queues again.
void requeue(self_pointer self, job_record job) {
  auto& st = self->state;
  if (end_attempt(self, job.id))
    metrics::jobs().running.add(-1);
  metrics::jobs().pending.add(1);
  self->send(st.context.cluster, job_status_changed{job.id, job.status});
  st.pending.push_back(std::move(job));
  schedule_dispatch(self);
}

/// An ephemeral attempt's job reached success or failure: the cluster answers its
/// waiters (its resolution is not cached, as job_actor.cpp's finish() says) and the
/// attempt is forgotten.
void finish_ephemeral(self_pointer self, const job_record& job) {
  self->send(self->state.context.cluster,
             job_finished{lifecycle::status_row_of(job), job.service, job.target_fn, "",
                          job.resulted_at});
  auto id = job.id; // `job` goes with its attempt
  if (end_attempt(self, id))
    metrics::jobs().running.add(-1);
}

/// A result for an ephemeral attempt, as its job actor would take it: accepted from
/// the attempt's holder and final at once (nothing to commit), else refused with no
/// activity written (an ephemeral job leaves no row).
bool post_ephemeral(self_pointer self, job_record& job, const job_result_post& post) {
  auto& jobs = metrics::jobs();
  if (!lifecycle::accepts_result(job, post)) {
    jobs.results_not_persisted.add();
    return false;
  }
  lifecycle::resolve(job, post, self->state.context.options.wall_clock());
  (job.result_type == result_kind::rejection ? jobs.succeeded_rejection
                                             : jobs.succeeded_resolution)
      .add();
  finish_ephemeral(self, job);
  return true;
}

/// A timeout or a silent machine ends an ephemeral attempt: back to pending while
/// attempts remain, else failure (job_actor.cpp's give_up(), with nothing to write).
void stall_ephemeral(self_pointer self, job_record& job, const std::string& reason) {
  auto status = lifecycle::stall(job, self->state.context.options.wall_clock());
  metrics::jobs().stalled.add();
  spdlog::debug("event=job_stalled cluster={} job={} reason=\"{}\" next={}", job.cluster_id,
                job.id, reason, to_string(status));
  if (status == job_status::pending)
    return requeue(self, std::move(job));
  metrics::jobs().failed.add();
  finish_ephemeral(self, job);
}

/// What a job actor spawned by this pool talks to; `adopted`: its attempt was dispatched
/// and written before (job_context::adopted).
job_context job_context_of(self_pointer self, bool adopted) {
  const auto& ctx = self->state.context;
  return job_context{ctx.writer,  ctx.cluster,
                     self,        ctx.options.wall_clock,
                     adopted,     ctx.options.job_result_fault,
                     ctx.refusals};
}

/// The actor of a running attempt failed (job_actor.cpp's on_exception) holding `job`:
/// a new actor takes the attempt over and stalls it, or commits the failure the old
/// one was committing. Nothing when the attempt ended first (the old actor told the
/// pool so before it failed) or another attempt of the job runs now.
void replace_failed_attempt(self_pointer self, job_record job, std::string reason) {
  auto it = self->state.running.find(job.id);
  if (it == self->state.running.end() || it->second.ephemeral ||
      it->second.attempt.address() != self->current_sender())
    return;
  bool failed = job.status == job_status::failure;
  auto& attempt = it->second.attempt;
  attempt = spawn_job(self, std::move(job), job_context_of(self, true));
  if (failed)
    self->send(attempt, persist_atom::value);
  else
    self->send(attempt, stall_atom::value, std::move(reason));
}

/// Tells the cluster that `changes` happened: one message for the jobs of one poll, not
/// one per job.
void tell_status_changes(self_pointer self, std::vector<job_status_changed> changes) {
  if (changes.size() == 1)
    self->send(self->state.context.cluster, std::move(changes.front()));
  else if (!changes.empty())
    self->send(self->state.context.cluster, std::move(changes));
}

/// Takes up to `limit` pending jobs for `machine_id`, spawning an attempt for each.
std::vector<dispatched_job> take_jobs(self_pointer self, std::int32_t limit,
                                      const std::string& machine_id) {
  auto& st = self->state;
  std::vector<dispatched_job> taken;
  auto count = std::min<std::size_t>(static_cast<std::size_t>(std::max(limit, 1)),
                                     st.pending.size());
  taken.reserve(count);
  std::vector<job_status_changed> changes;
  changes.reserve(count);
  auto now = st.context.options.wall_clock();
  auto& stats = metrics::jobs();
  stats.pending.add(-static_cast<std::int64_t>(count));
  stats.running.add(static_cast<std::int64_t>(count));
  stats.dispatched.add(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto job = std::move(st.pending.front());
    st.pending.pop_front();
    lifecycle::dispatch(job, machine_id, now);
    taken.push_back(
        dispatched_job{job.id, job.target_fn, job.target_args, job.attempts_used});
    changes.push_back(job_status_changed{job.id, job_status::running});
    auto id = job.id;
    auto number = job.attempts_used;
    auto due = self->clock().now() + std::chrono::seconds{job.timeout_seconds};
    job_actor attempt;
    std::unique_ptr<job_record> ephemeral;
    if (job.durable)
      attempt = spawn_job(self, std::move(job), job_context_of(self, false));
    else
      ephemeral = std::make_unique<job_record>(std::move(job));
    // One lookup for the new attempt: an older one of the job still held (not possible
    // while the FIFO and the running set are disjoint, but cheap to be sure of) ends.
    auto [it, is_new] = st.running.try_emplace(std::move(id));
    if (!is_new) {
      if (it->second.deadline != st.deadlines.end())
        st.deadlines.erase(it->second.deadline);
      if (!it->second.ephemeral)
        self->send(it->second.attempt, release_atom::value);
    }
    auto deadline = st.deadlines.emplace(due, it->first);
    it->second = running_attempt{std::move(attempt), std::move(ephemeral), machine_id,
                                 number, deadline};
  }
  tell_status_changes(self, std::move(changes));
  schedule_timeout_check(self);
  return taken;
}

/// Takes over attempts that the cluster's previous owner dispatched and handed over with
/// its lease: their workers still run them, so they keep their attempt and the deadline
/// they had, and their results are accepted as if the attempts began here.
void adopt_attempts(self_pointer self, std::vector<job_record> jobs) {
  auto& st = self->state;
  auto wall_now = st.context.options.wall_clock();
  auto now = self->clock().now();
  metrics::jobs().running.add(static_cast<std::int64_t>(jobs.size()));
  for (auto& job : jobs) {
    auto id = job.id;
    auto machine_id = job.executing_machine_id;
    auto number = job.attempts_used;
    auto elapsed = std::max<timestamp_ms>(0, wall_now - job.last_dispatched_at);
    auto timeout = timestamp_ms{job.timeout_seconds} * 1000;
    auto left = std::max<timestamp_ms>(0, timeout - elapsed);
    auto due = now + std::chrono::milliseconds{left};
    auto attempt = spawn_job(self, std::move(job), job_context_of(self, true));
    end_attempt(self, id);
    auto deadline = st.deadlines.emplace(due, id);
    st.running.emplace(std::move(id), running_attempt{attempt, nullptr,
                                                      std::move(machine_id), number,
                                                      deadline});
  }
  schedule_timeout_check(self);
}

void unpark(pool_state& st, std::map<std::uint64_t, parked_poll>::iterator it,
            std::vector<dispatched_job> jobs) {
  it->second.promise.deliver(std::move(jobs));
  st.poll_expiries.remove(it->first, it->second.expires_at);
  st.parked.erase(it);
  st.context.parked.unpark();
}

/// Serves parked polls from the FIFO. Runs as a message of its own while other messages
/// are queued, so that a burst of enqueues is handed out together rather than one job
/// per poll; at once when none is (schedule_dispatch).
void dispatch(self_pointer self) {
  auto& st = self->state;
  st.dispatch_scheduled = false;
  while (!st.pending.empty() && !st.parked.empty()) {
    auto it = st.parked.begin();
    auto jobs = take_jobs(self, it->second.limit, it->second.machine_id);
    unpark(st, it, std::move(jobs));
  }
}

void arm_poll_timer(self_pointer self, std::optional<caf::actor_clock::time_point> at) {
  if (at)
    self->delayed_send(self, *at - self->clock().now(), poll_expired_atom::value,
                       poll_expiry_schedule::encode(*at));
}

void schedule_dispatch(self_pointer self) {
  auto& st = self->state;
  if (st.parked.empty() || st.dispatch_scheduled)
    return;
  // Nothing else is queued, so there is no burst to gather: the jobs go out now, not
  // after one more message to itself.
  if (self->mailbox().empty())
    return dispatch(self);
  st.dispatch_scheduled = true;
  self->send(self, dispatch_atom::value);
}

pool_actor::behavior_type pool_behavior(self_pointer self, pool_context context) {
  self->state.context = std::move(context);
  return {
      [self](enqueue_atom, job_record& job) {
        metrics::jobs().pending.add(1);
        self->state.pending.push_back(std::move(job));
        schedule_dispatch(self);
      },
      [self](enqueue_atom, std::vector<job_record>& jobs) {
        metrics::jobs().pending.add(static_cast<std::int64_t>(jobs.size()));
        for (auto& job : jobs)
          self->state.pending.push_back(std::move(job));
        schedule_dispatch(self);
      },
      [self](adopt_atom, std::vector<job_record>& jobs) {
        adopt_attempts(self, std::move(jobs));
      },
      [self](jobs_request& request) -> caf::result<std::vector<dispatched_job>> {
        auto& st = self->state;
        auto limit = std::min(request.limit, st.context.options.max_jobs_per_poll);
        if (!st.pending.empty())
          return take_jobs(self, limit, request.machine_id);
        switch (st.context.parked.try_park()) {
        case parked_polls::refusal::process_full:
          return make_error(error_code::overloaded,
                            "too many parked long-polls; retry later");
        case parked_polls::refusal::cluster_full:
          return make_error(error_code::limit_reached,
                            "too many parked long-polls in this cluster; retry later");
        case parked_polls::refusal::none:
          break;
        }
        auto id = st.next_poll_id++;
        auto promise = self->make_response_promise<std::vector<dispatched_job>>();
        auto expires_at = self->clock().now() + std::chrono::milliseconds{request.ttl_ms};
        st.parked.emplace(id, parked_poll{promise, request.machine_id, limit, expires_at});
        arm_poll_timer(self, st.poll_expiries.add(id, expires_at));
        return promise;
      },
      [self](job_result_post& post, bool durable,
             bool posted_waited) -> caf::result<bool> {
        auto& st = self->state;
        auto it = st.running.find(post.job_id);
        if (it == st.running.end()) {
          metrics::jobs().results_not_persisted.add();
          // An ephemeral job leaves no row, its activity included.
          if (durable && st.context.refusals.take(self->clock().now()))
            caf::anon_send(
                st.context.writer,
                std::vector<event_record>{activity::result_not_persisted(
                    st.context.cluster_id, st.context.service, post,
                    "the job is not running (it is waiting for a new attempt)")});
          return false;
        }
        if (it->second.ephemeral)
          return post_ephemeral(self, *it->second.ephemeral, post);
        return self->delegate(it->second.attempt, std::move(post), posted_waited);
      },
      [self](machine_inactive_atom, const std::string& machine_id) {
        auto& st = self->state;
        std::vector<std::string> ephemeral;
        for (auto& [id, running] : st.running) {
          if (running.machine_id != machine_id)
            continue;
          if (running.ephemeral)
            ephemeral.push_back(id);
          else
            self->send(running.attempt, stall_atom::value,
                       std::string{"machine stopped polling"});
        }
        // Its polls are answered first: a stalled job may be handed out again at once,
        // and never to the machine that lost it.
        for (auto it = st.parked.begin(); it != st.parked.end();) {
          auto next = std::next(it);
          if (it->second.machine_id == machine_id)
            unpark(st, it, {});
          it = next;
        }
        // Stalled after the loop: a stall ends the attempt, and so its entry.
        for (const auto& id : ephemeral)
          if (auto it = st.running.find(id); it != st.running.end())
            stall_ephemeral(self, *it->second.ephemeral, "machine stopped polling");
      },
      [self](requeue_atom, job_record& job) { requeue(self, std::move(job)); },
      [self](stall_atom, job_record& job, std::string& reason) {
        replace_failed_attempt(self, std::move(job), std::move(reason));
      },
      [self](job_done_atom, const std::string& id) {
        if (end_attempt(self, id))
          metrics::jobs().running.add(-1);
      },
      [self](check_timeouts_atom) { check_timeouts(self); },
      [self](dispatch_atom) { dispatch(self); },
      [self](poll_expired_atom, std::uint64_t armed) {
        auto& st = self->state;
        auto fired = st.poll_expiries.fire(poll_expiry_schedule::decode(armed),
                                           self->clock().now());
        for (auto id : fired.due)
          if (auto it = st.parked.find(id); it != st.parked.end())
            unpark(st, it, {});
        arm_poll_timer(self, fired.arm);
      },
      [self](release_atom) {
        auto& st = self->state;
        while (!st.parked.empty())
          unpark(st, st.parked.begin(), {});
      },
      [self](retire_atom) {
        const auto& st = self->state;
        return st.pending.empty() && st.running.empty() && st.parked.empty();
      },
      [self](replace_args_atom, std::vector<std::string>& ids,
             std::vector<std::string>& args) {
        // One pass over the FIFO (a deque) for all the jobs a step coalesced into: a
        // request per job searched it once each, a quarter of the server's CPU in
        // bench/resources' batches (1,000 coalesced informs over 4,000 queued works).
        std::unordered_map<std::string_view, std::size_t> wanted;
        for (std::size_t i = 0; i < ids.size() && i < args.size(); ++i)
          wanted[ids[i]] = i; // a repeated id: its last arguments
        for (auto it = self->state.pending.begin();
             it != self->state.pending.end() && !wanted.empty(); ++it)
          if (auto found = wanted.find(it->id); found != wanted.end()) {
            it->target_args = std::move(args[found->second]);
            wanted.erase(found);
          }
        std::vector<std::string> missed;
        missed.reserve(wanted.size());
        for (const auto& [id, index] : wanted)
          missed.push_back(ids[index]);
        return missed;
      },
      [self](withdraw_atom, const std::vector<std::string>& ids) {
        auto& pending = self->state.pending;
        std::vector<job_record> withdrawn;
        // One pass over the queue, like replace_args: a removal of a resource with
        // queued work is rare, but one step may remove many behind a long queue.
        std::unordered_set<std::string> wanted{ids.begin(), ids.end()};
        for (auto it = pending.begin();
             it != pending.end() && withdrawn.size() < wanted.size();) {
          if (wanted.count(it->id) == 0) {
            ++it;
            continue;
          }
          withdrawn.push_back(std::move(*it));
          it = pending.erase(it);
        }
        metrics::jobs().pending.add(-static_cast<std::int64_t>(withdrawn.size()));
        return withdrawn;
      },
      [self](stop_atom) { self->quit(); },
  };
}

} // namespace

pool_actor spawn_pool(caf::local_actor* parent, pool_context context) {
  return parent->spawn<caf::linked>(pool_behavior, std::move(context));
}

} // namespace diffplane
