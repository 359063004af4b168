#include "actors/job_actor.hpp"

#include "actors/activity.hpp"
#include "actors/job_lifecycle.hpp"
#include "metrics/catalog.hpp"
#include "persistence/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace diffplane {

namespace {

using result_promise = caf::typed_response_promise<bool>;

/// Where the attempt is: its result can still come, a result's write is in flight, or it
/// ended and waits for its pool to release it.
enum class attempt_phase { running, resolving, ended };

/// A result as the cluster routed it: whether a waiter takes it as posted, and the
/// answer to its poster.
struct posted_result {
  job_result_post post;
  bool posted_waited = false;
  result_promise promise;
};

struct job_state {
  job_record job;
  job_context context;
  attempt_phase phase = attempt_phase::running;
  /// A stall (timeout, silent machine) that came while a result's write was in flight:
  /// it takes effect if that write fails.
  std::optional<std::string> stall_after_failed_write;
  /// What the result whose write is in flight replaced: put back if the write fails, or
  /// if the actor fails meanwhile.
  lifecycle::resolution_undo replaced;
  /// The answer to that result's poster (also held by the write's response handler).
  result_promise writing;
  /// Results that came while a write was in flight; they are answered after its outcome.
  std::vector<posted_result> waiting_results;
  static inline const char* name = "diffplane.job";
};

using self_pointer = job_actor::stateful_pointer<job_state>;

/// The job reached success or failure: tell the cluster (waiters, cache) and the pool,
/// which releases the attempt.
void finish(self_pointer self) {
  auto& st = self->state;
  // An ephemeral resolution is not cached: the cache would hand out the id of a job
  // that a restart forgets, and its lookups beyond memory read Postgres.
  self->send(st.context.cluster,
             job_finished{lifecycle::status_row_of(st.job), st.job.service,
                          st.job.target_fn, st.job.durable ? st.job.cache_key : "",
                          st.job.resulted_at});
  self->send(st.context.pool, job_done_atom::value, st.job.id);
}

void record(self_pointer self, event_record event) {
  // An ephemeral job leaves no row anywhere, its activity included.
  if (self->state.job.durable)
    caf::anon_send(self->state.context.writer,
                   std::vector<event_record>{std::move(event)});
}

/// Sends the job's state to the writer without awaiting it; nothing for an ephemeral job.
void write_state(self_pointer self) {
  if (self->state.job.durable)
    caf::anon_send(self->state.context.writer, lifecycle::state_of(self->state.job));
}

/// Commits the failure, then tells the waiters; while the database refuses, tries again
/// every second (waiters may only hear "failure" once it is durable).
void persist_failure(self_pointer self) {
  if (!self->state.job.durable)
    return finish(self);
  self->request(self->state.context.writer, caf::infinite,
                lifecycle::state_of(self->state.job))
      .then([self](done_atom) { finish(self); },
            [self](caf::error& err) {
              spdlog::error(
                  "event=job_failure_not_persisted job={} reason=\"{}\" action=retry",
                  self->state.job.id, message_of(err));
              self->delayed_send(self, std::chrono::seconds{1}, persist_atom::value);
            });
}

/// Ends the attempt without a result: back to pending while attempts remain, else
/// failure.
void give_up(self_pointer self, const std::string& reason) {
  auto& st = self->state;
  st.phase = attempt_phase::ended;
  auto status = lifecycle::stall(st.job, st.context.wall_clock());
  metrics::jobs().stalled.add();
  record(self, activity::job_stalled(st.job, st.job.executing_machine_id, reason));
  spdlog::debug("event=job_stalled cluster={} job={} reason=\"{}\" next={}",
                st.job.cluster_id, st.job.id, reason, to_string(status));
  if (status == job_status::pending) {
    // Not awaited: a crash before this commits finds the job running, which recovery
    // treats exactly like this stall.
    write_state(self);
    self->send(st.context.pool, requeue_atom::value, st.job);
    return;
  }
  metrics::jobs().failed.add();
  record(self, activity::job_failed(st.job, "no attempts left after: " + reason));
  persist_failure(self);
}

/// A timeout or a silent machine: acts now, or once a result's write in flight failed.
void request_stall(self_pointer self, std::string reason) {
  auto& st = self->state;
  if (st.phase == attempt_phase::running)
    give_up(self, reason);
  else if (st.phase == attempt_phase::resolving && !st.stall_after_failed_write)
    st.stall_after_failed_write = std::move(reason);
}

/// Why `post` is not taken, for the job's activity.
std::string refusal_reason(const job_state& st, const job_result_post& post) {
  if (st.phase == attempt_phase::ended)
    return "the attempt already ended";
  if (post.attempt != st.job.attempts_used)
    return "the result is of attempt " + std::to_string(post.attempt) +
           ", the job is on " + std::to_string(st.job.attempts_used);
  return "the attempt is held by machine " + st.job.executing_machine_id;
}

void refuse(self_pointer self, const job_result_post& post, result_promise& promise) {
  auto& st = self->state;
  metrics::jobs().results_not_persisted.add();
  if (st.job.durable && st.context.refusals.take(self->clock().now()))
    record(self, activity::result_not_persisted(st.job.cluster_id, st.job.service, post,
                                                refusal_reason(st, post)));
  promise.deliver(false);
}

void handle_result(self_pointer self, posted_result posted);
void answer_waiting_results(self_pointer self);

/// The resolution is final (committed, or ephemeral): the waiters hear of it.
void resolved(self_pointer self, result_promise& promise) {
  auto& st = self->state;
  st.phase = attempt_phase::ended;
  auto& jobs = metrics::jobs();
  (st.job.result_type == result_kind::rejection ? jobs.succeeded_rejection
                                                : jobs.succeeded_resolution)
      .add();
  finish(self);
  promise.deliver(true);
  answer_waiting_results(self);
}

/// Answers the results that waited for a write, now that its outcome is known.
void answer_waiting_results(self_pointer self) {
  auto waiting = std::move(self->state.waiting_results);
  self->state.waiting_results.clear();
  for (auto& posted : waiting)
    handle_result(self, std::move(posted));
}

/// Accepts a result from the attempt's holder: resolves the job and answers once the
/// write committed. A result that comes while a write is in flight waits for its
/// outcome: refused if it committed, tried in its place if it failed.
void handle_result(self_pointer self, posted_result posted) {
  auto& st = self->state;
  if (st.phase == attempt_phase::resolving) {
    st.waiting_results.push_back(std::move(posted));
    return;
  }
  auto& post = posted.post;
  auto& promise = posted.promise;
  if (st.phase == attempt_phase::ended || !lifecycle::accepts_result(st.job, post)) {
    refuse(self, post, promise);
    return;
  }
  st.phase = attempt_phase::resolving;
  st.replaced = lifecycle::resolve(st.job, post, st.context.wall_clock());
  st.writing = promise;
  if (!st.job.durable) {
    // Nothing to commit: an ephemeral job is resolved the moment its result comes.
    resolved(self, promise);
    return;
  }
  // Callers that take the result as posted hear of it now, a commit sooner; if the
  // write fails, the attempt goes on and the job may end with another result. With no
  // such caller when the cluster routed the result, nothing is sent: a wait parked
  // since is answered by the commit.
  if (posted.posted_waited)
    self->send(st.context.cluster, posted_result_atom::value,
               lifecycle::status_row_of(st.job));
  self->request(st.context.writer, caf::infinite, lifecycle::state_of(st.job))
      .then([self, promise](done_atom) mutable { resolved(self, promise); },
            [self, promise](caf::error& err) mutable {
              // Not durable: the attempt goes on, so the worker may post again, unless
              // its deadline passed or its machine went silent meanwhile.
              auto& st = self->state;
              lifecycle::undo(st.job, std::move(st.replaced));
              st.phase = attempt_phase::running;
              promise.deliver(err);
              if (auto reason = std::exchange(st.stall_after_failed_write, std::nullopt))
                give_up(self, *reason);
              answer_waiting_results(self);
            });
}

std::string what_of(const std::exception_ptr& eptr) {
  try {
    std::rethrow_exception(eptr);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception of unknown type";
  }
}

/// An exception escaped a handler (a bug). The pool neither links nor monitors its
/// attempts (see spawn_job), so the actor tells it itself before it ends: the pool
/// stalls the attempt in a new actor, and the job's retry policy applies as when its
/// machine goes silent. The answer is the error a request being handled gets.
caf::error on_exception(self_pointer self, std::exception_ptr& eptr) {
  auto& st = self->state;
  auto reason = "job actor failed: " + what_of(eptr);
  metrics::jobs().actor_failures.add();
  spdlog::error("event=job_actor_failed cluster={} job={} attempt={} reason=\"{}\" "
                "action=stall",
                st.job.cluster_id, st.job.id, st.job.attempts_used, reason);
  auto err = make_error(error_code::internal, reason);
  if (st.phase == attempt_phase::resolving) {
    // The result's write is still in flight: the attempt is stalled from before the
    // result, with a revision past the write's, so that the stall supersedes the result
    // even if its write commits.
    auto revision = st.job.revision;
    lifecycle::undo(st.job, std::move(st.replaced));
    st.job.revision = revision;
    st.writing.deliver(err);
  }
  for (auto& waiting : st.waiting_results)
    waiting.promise.deliver(err);
  st.waiting_results.clear();
  // An attempt that already ended told its pool so (requeue, job_done), which then
  // ignores this; one whose failure is still being committed is committed anew.
  self->send(st.context.pool, stall_atom::value, st.job, reason);
  return err;
}

job_actor::behavior_type job_behavior(self_pointer self, job_record job,
                                      job_context context) {
  self->set_exception_handler(
      [self](std::exception_ptr& eptr) { return on_exception(self, eptr); });
  auto& st = self->state;
  st.job = std::move(job);
  st.context = std::move(context);
  // The dispatch itself is not awaited: the worker already has the job, and a crash
  // before this commits leaves the job pending, so it runs again (at least once).
  if (!st.context.adopted)
    write_state(self);
  // The pool sends job_timeout_atom when the attempt's timeout passes.
  return {
      [self](job_result_post& post, bool posted_waited) -> caf::result<bool> {
        if (self->state.context.result_fault)
          self->state.context.result_fault(post);
        auto promise = self->make_response_promise<bool>();
        handle_result(self, posted_result{std::move(post), posted_waited, promise});
        return promise;
      },
      [self](job_timeout_atom, std::int32_t attempt) {
        if (attempt == self->state.job.attempts_used)
          request_stall(self, "timeout");
      },
      [self](stall_atom, std::string& reason) { request_stall(self, std::move(reason)); },
      [self](persist_atom) { persist_failure(self); },
      [self](release_atom) { self->quit(); },
  };
}

} // namespace

job_actor spawn_job(caf::local_actor* parent, job_record job, job_context context) {
  // Not linked: a link is an entry in the pool's list of attachables, removed by a linear
  // search when the attempt ends, which made every exit cost O(running attempts). The
  // pool ends its attempts itself when it goes (see pool_state).
  return parent->spawn(job_behavior, std::move(job), std::move(context));
}

} // namespace diffplane
