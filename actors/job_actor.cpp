#include "actors/job_actor.hpp"

#include "actors/activity.hpp"
#include "actors/job_lifecycle.hpp"
#include "actors/wall_clock.hpp"
#include "metrics/catalog.hpp"
#include "persistence/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace diffplane {

namespace {

struct job_state {
  job_record job;
  job_context context;
  /// Set once the attempt is ending: no result or stall may act on it any more.
  bool settled = false;
  static inline const char* name = "diffplane.job";
};

using self_pointer = job_actor::stateful_pointer<job_state>;

/// The job reached success or failure: tell the cluster (waiters, cache) and the pool.
void finish(self_pointer self) {
  auto& st = self->state;
  self->send(st.context.cluster,
             job_finished{lifecycle::status_row_of(st.job), st.job.service,
                          st.job.target_fn, st.job.cache_key, st.job.resulted_at});
  self->send(st.context.pool, job_done_atom::value, st.job.id);
  self->quit();
}

void record(self_pointer self, event_record event) {
  caf::anon_send(self->state.context.writer, std::vector<event_record>{std::move(event)});
}

/// Commits the failure, then tells the waiters; while the database refuses, tries again
/// every second (waiters may only hear "failure" once it is durable).
void persist_failure(self_pointer self) {
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
  st.settled = true;
  auto status = lifecycle::stall(st.job, wall_clock_ms());
  metrics::jobs().stalled.add();
  record(self, activity::job_stalled(st.job, st.job.executing_machine_id, reason));
  spdlog::debug("event=job_stalled cluster={} job={} reason=\"{}\" next={}",
                st.job.cluster_id, st.job.id, reason, to_string(status));
  if (status == job_status::pending) {
    // Not awaited: a crash before this commits finds the job running, which recovery
    // treats exactly like this stall.
    caf::anon_send(st.context.writer, lifecycle::state_of(st.job));
    self->send(st.context.pool, requeue_atom::value, std::move(st.job));
    self->quit();
    return;
  }
  metrics::jobs().failed.add();
  record(self, activity::job_failed(st.job, "no attempts left after: " + reason));
  persist_failure(self);
}

job_actor::behavior_type job_behavior(self_pointer self, job_record job,
                                      job_context context) {
  auto& st = self->state;
  st.job = std::move(job);
  st.context = std::move(context);
  // The dispatch itself is not awaited: the worker already has the job, and a crash
  // before this commits leaves the job pending, so it runs again (at least once).
  caf::anon_send(st.context.writer, lifecycle::state_of(st.job));
  // The pool sends job_timeout_atom when the attempt's timeout passes.
  return {
      [self](job_result_post& post) -> caf::result<bool> {
        auto& st = self->state;
        if (st.settled || !lifecycle::accepts_result(st.job, post)) {
          metrics::jobs().results_not_persisted.add();
          record(self, activity::result_not_persisted(
                           st.job.cluster_id, st.job.service, post,
                           st.settled ? "the attempt already ended"
                                      : "the attempt is held by machine " +
                                            st.job.executing_machine_id));
          return false;
        }
        st.settled = true;
        auto replaced = lifecycle::resolve(st.job, post, wall_clock_ms());
        auto promise = self->make_response_promise<bool>();
        self->request(st.context.writer, caf::infinite, lifecycle::state_of(st.job))
            .then(
                [self, promise](done_atom) mutable {
                  auto& jobs = metrics::jobs();
                  (self->state.job.result_type == result_kind::rejection
                       ? jobs.succeeded_rejection
                       : jobs.succeeded_resolution)
                      .add();
                  finish(self);
                  promise.deliver(true);
                },
                [self, promise, replaced = std::move(replaced)](caf::error& err) mutable {
                  // Not durable: the attempt goes on, so the worker may post again or
                  // time out.
                  lifecycle::undo(self->state.job, std::move(replaced));
                  self->state.settled = false;
                  promise.deliver(err);
                });
        return promise;
      },
      [self](job_timeout_atom, std::int32_t attempt) {
        if (!self->state.settled && attempt == self->state.job.attempts_used)
          give_up(self, "timeout");
      },
      [self](stall_atom, std::string& reason) {
        if (!self->state.settled)
          give_up(self, reason);
      },
      [self](persist_atom) { persist_failure(self); },
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
