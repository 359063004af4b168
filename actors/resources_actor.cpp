#include "actors/resources_actor.hpp"

#include "actors/job_ids.hpp"
#include "actors/resource_events.hpp"
#include "persistence/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <variant>

namespace diffplane {

namespace {

using namespace resources;

using results_promise = caf::typed_response_promise<std::vector<inform_result>>;
using events_promise = caf::typed_response_promise<resource_events_page>;

/// A parked GET /resources/events.
struct events_waiter {
  events_promise promise;
  resource_events_request request;
};

/// The operations a step decides on, in the order they came.
struct inform_op {
  resource_inform_request request;
  results_promise promise;
};
struct finished_op {
  job_finished finished;
};
struct dispatched_op {
  std::string job_id;
};
struct retry_op {
  std::string key;
  timestamp_ms due = 0;
};
struct rework_op {
  std::string key;
  std::string job_id;
};
struct kind_op {
  resource_kind_record settings;
  caf::typed_response_promise<resource_kind_record> promise;
};
/// A resource loaded with a job id whose job does not exist: its work is queued again.
struct lost_job_op {
  std::string key;
};
struct namespace_op {
  resource_namespace_record settings;
  caf::typed_response_promise<resource_namespace_record> promise;
};
struct command_op {
  resource_command command;
  caf::typed_response_promise<resource_command_result> promise;
};
/// Expires and purges what is due (the periodic scan, see arm_scan).
struct scan_op {};
/// Namespaces whose waiting resources may take free slots (after a restart).
struct release_op {
  std::vector<std::string> namespaces;
};
/// An informer run of `kind` that started at `started_at` returned `items`: informed
/// like a POST, in the commit that records the run.
struct informed_op {
  std::string kind;
  timestamp_ms started_at = 0;
  std::vector<resource_input> items;
};
/// An informer run of `kind` failed with `error`: stored as the kind's informError.
struct inform_failed_op {
  std::string kind;
  std::string error;
};
using operation = std::variant<inform_op, finished_op, dispatched_op, retry_op, rework_op,
                               lost_job_op, kind_op, namespace_op, command_op, scan_op,
                               release_op, informed_op, inform_failed_op>;

/// A generator seeded with eight words of entropy (see cluster_behavior).
std::mt19937_64 seeded() {
  std::random_device entropy;
  std::seed_seq seed{entropy(), entropy(), entropy(), entropy(),
                     entropy(), entropy(), entropy(), entropy()};
  return std::mt19937_64{seed};
}

class step_plan;
struct planned_step;

struct resources_state {
  resources_context context;
  /// Every resource of the cluster as committed, by key_of(kind, id).
  std::unordered_map<std::string, resource_record> entries;
  /// The resource of each queued or running work job.
  std::unordered_map<std::string, std::string> job_owner;
  /// The settings of the kinds that have any, by kind.
  std::unordered_map<std::string, resource_kind_record> kinds;
  /// The settings of the namespaces that have any, by name.
  std::unordered_map<std::string, resource_namespace_record> namespaces;
  /// Works queued or running per namespace (max_workers), those of removed resources
  /// whose job has not ended included.
  std::unordered_map<std::string, std::int64_t> works;
  /// Resources waiting for a slot of their namespace, in the order they came; a key may
  /// be stale (no longer waiting): checked when taken.
  std::unordered_map<std::string, std::deque<std::string>> held;
  /// The namespace of each queued or running job of a removed resource.
  std::unordered_map<std::string, std::string> orphans;
  /// A timer_scan_atom is on its way.
  bool scan_armed = false;
  /// When each kind's informer runs, and its run in flight.
  informer_schedule informers;
  /// The cluster told which informer runs its load found live: until then no informer
  /// is scheduled (a run started earlier would be doubled).
  bool informer_runs_known = false;
  std::deque<operation> queue;
  /// The step whose commit is in flight (null: none).
  std::shared_ptr<step_plan> in_flight;
  /// Informs planned on top of the step in flight while it commits (null: none): sent
  /// as the next step once that one committed, given back to the queue when it failed.
  std::shared_ptr<planned_step> ahead;
  /// Job ids come from this, seeded like the cluster's generator (cluster_actor.cpp).
  std::mt19937_64 random = seeded();
  /// The numbering and the newest of the cluster's events, and the polls parked on them.
  event_log events;
  std::unordered_map<std::uint64_t, events_waiter> events_waiters;
  std::uint64_t next_events_waiter = 1;
  static inline const char* name = "diffplane.resources";
};

using self_pointer = resources_actor::stateful_pointer<resources_state>;

/// Most informed items one step takes (one batch of 1,000). A step's commit holds the
/// cluster's lease row (the writer's fence), and another node's acquisition waits for
/// it: five batches in one commit took 2.5 to 3.5 s on a busy 2-core machine
/// (bench/resources). (The lease renewal once waited for it too, and the node lost its
/// clusters; see fenced_clusters.)
constexpr std::size_t items_per_step = 1000;

/// The server's options with `kind`'s settings (null: none) over them.
resource_options options_for(const resource_options& defaults,
                             const resource_kind_record* kind) {
  auto options = defaults;
  if (kind == nullptr)
    return options;
  if (kind->backoff_base_ms > 0)
    options.backoff_base = std::chrono::milliseconds{kind->backoff_base_ms};
  if (kind->backoff_cap_ms > 0)
    options.backoff_cap = std::chrono::milliseconds{kind->backoff_cap_ms};
  if (kind->timeout_seconds > 0)
    options.work_timeout_seconds = kind->timeout_seconds;
  return options;
}

/// The settings of `kind` in effect.
resource_kind_record effective(const resources_state& st, const std::string& kind) {
  auto it = st.kinds.find(kind);
  const auto* stored = it == st.kinds.end() ? nullptr : &it->second;
  auto options = options_for(st.context.options, stored);
  // Until the cluster's live jobs are in, the informers are not scheduled yet
  // (configure_informer): the last run and its error are the ones loaded.
  auto scheduled = st.informer_runs_known || stored == nullptr;
  return resource_kind_record{
      st.context.cluster_id,
      kind,
      options.backoff_base.count(),
      options.backoff_cap.count(),
      options.work_timeout_seconds,
      stored == nullptr ? 0 : stored->updated_at,
      stored == nullptr ? 0 : stored->inform_interval_seconds,
      scheduled ? st.informers.last_run_at(kind) : stored->last_informed_at,
      scheduled ? st.informers.last_error(kind) : stored->inform_error};
}

/// The settings of namespace `name` (all 0 when it has none).
resource_namespace_record effective_namespace(const resources_state& st,
                                              const std::string& name) {
  if (auto it = st.namespaces.find(name); it != st.namespaces.end())
    return it->second;
  resource_namespace_record none;
  none.cluster_id = st.context.cluster_id;
  none.name = name;
  return none;
}

/// One step: the resources it changed (on top of the committed entries), the write that
/// makes that durable, and what to do once it is.
class step_plan {
public:
  /// A step on the committed state, or (`base` set) on the changes of `base`, the step
  /// whose commit is in flight (it is sent only once `base` committed: plan_ahead).
  explicit step_plan(resources_state& st, const step_plan* base = nullptr)
      : st_(st), base_(base) {
    write.cluster_id = st_.context.cluster_id;
    now_ = st_.context.wall_clock();
  }

  /// The resource as this step sees it; null when unknown.
  const resource_record* find(const std::string& key) const {
    if (auto it = changed.find(key); it != changed.end())
      return &it->second;
    if (removed_.count(key) > 0)
      return nullptr;
    if (base_ != nullptr)
      return base_->find(key);
    if (auto it = st_.entries.find(key); it != st_.entries.end())
      return &it->second;
    return nullptr;
  }

  /// The step below committed and is applied: the entries hold its changes (apply moves
  /// them out of it).
  void base_committed() { base_ = nullptr; }

  /// Whether informs may be planned on top of this step while it commits: it changes
  /// no settings and removes nothing, and no namespace limits its works (the counts of
  /// works and the waiting lists are kept for the committed state only).
  bool can_carry() const {
    return kinds.empty() && namespaces.empty() && removed_.empty() && held_new_.empty() &&
           std::none_of(st_.namespaces.begin(), st_.namespaces.end(),
                        [](const auto& ns) { return ns.second.max_workers > 0; });
  }

  /// The resource to change: the step's copy, with the next revision.
  resource_record& change(const std::string& key, const resource_record* base) {
    auto [it, is_new] = changed.try_emplace(key);
    if (is_new) {
      if (base != nullptr) {
        // Its work (if any) may end in this step: the namespace may have a free slot.
        touched_.insert(base->namespace_name);
        it->second = *base;
      } else {
        it->second.created_at = now_;
      }
      it->second.cluster_id = st_.context.cluster_id;
      it->second.revision += 1;
    }
    it->second.updated_at = now_;
    return it->second;
  }

  /// Queues a new work of `r` (`fresh`: a new object, so attempts start over), in state
  /// `as` (scheduled, or expired).
  void schedule(resource_record& r, bool fresh,
                resource_state as = resource_state::scheduled,
                std::string_view object_msgpack = {}) {
    if (fresh) {
      r.attempts = 0;
      r.errors_json = "[]";
    }
    r.attempts += 1;
    r.state = as;
    r.dirty = false;
    r.next_attempt_at = 0;
    if (max_workers(r.namespace_name) > 0) {
      // Waits for a slot of its namespace: release_held gives it its job, in this step
      // or in the one where a work of the namespace ends.
      r.work_job_id.clear();
      hold(r);
      return;
    }
    start_work(r, object_msgpack);
  }

  /// Creates the work job of `r` (its object as msgpack when the inform gave it).
  void start_work(resource_record& r, std::string_view object_msgpack = {}) {
    job_record job;
    job.cluster_id = st_.context.cluster_id;
    job.id = new_job_id(st_.random);
    job.service = service_of(r.kind);
    job.target_fn = "work";
    job.target_args = work_args(r, object_msgpack);
    // The resource retries with its own backoff, so a stalled attempt is not retried
    // by the job.
    job.max_attempts = 1;
    job.timeout_seconds = options(r.kind).work_timeout_seconds;
    job.status = job_status::pending;
    job.revision = 1;
    job.id_generated = true;
    r.work_job_id = job.id;
    new_jobs_[job.id] = write.jobs.size();
    write.jobs.push_back(std::move(job));
  }

  /// Gives the queued work of `r` the newest object: the job of this step, or a
  /// committed queued one, whose pool's copy is replaced after the commit (one
  /// replacement a job, the last). Its row keeps the arguments it was created with: the
  /// resource's row, written anyway, has the newest object, and a restart gives a queued
  /// work the arguments of its resource's row (sql::give_newest_work_args). An UPDATE of
  /// the job's row per coalesced inform was a third of Postgres's time on changed
  /// informs (bench/resources).
  void coalesce(const std::string& key, const resource_record& r,
                std::string_view object_msgpack) {
    auto args = work_args(r, object_msgpack);
    if (auto it = new_jobs_.find(r.work_job_id); it != new_jobs_.end()) {
      write.jobs[it->second].target_args = std::move(args);
      return;
    }
    auto [it, fresh] = updated_jobs_.try_emplace(r.work_job_id, replaces.size());
    if (!fresh) {
      replaces[it->second].key = key;
      replaces[it->second].args = std::move(args);
      replaces[it->second].record = &r;
      return;
    }
    replaces.push_back(replaced_args{key, r.work_job_id, std::move(args), &r});
  }

  std::string inform(const resource_input& input) {
    auto key = key_of(input.kind, input.id);
    const auto* stored = find(key);
    if (stored != nullptr && input.has_version && stored->has_version &&
        input.version < stored->version)
      return "stale";
    auto hash = hash_of(input.object_json);
    if (stored != nullptr && stored->hash == hash) {
      if (stored->state == resource_state::synced)
        return "unchanged";
      // The queued or running work has this very object.
      if (stored->state == resource_state::scheduled ||
          stored->state == resource_state::pending ||
          stored->state == resource_state::expired)
        return "coalesced";
    }
    auto was = stored == nullptr ? std::optional<resource_state>{} : stored->state;
    auto was_namespace = stored == nullptr ? std::string{} : stored->namespace_name;
    auto& r = change(key, stored);
    take_input(r, input, hash, st_.context.options);
    if (was == resource_state::scheduled || was == resource_state::expired) {
      r.state = resource_state::scheduled;
      if (has_work(r))
        coalesce(key, r, input.object_msgpack);
      else if (r.namespace_name != was_namespace)
        hold(r); // waits for a slot of its new namespace
      return "coalesced";
    }
    if (was == resource_state::pending) {
      if (r.dirty)
        return "coalesced";
      r.dirty = true;
      return "scheduled";
    }
    schedule(r, true, resource_state::scheduled, input.object_msgpack);
    return "scheduled";
  }

  void finished(const job_finished& f) {
    auto owner = st_.job_owner.find(f.row.id);
    if (owner == st_.job_owner.end()) {
      orphan_ended(f.row.id);
      return;
    }
    const auto& key = owner->second;
    const auto* stored = find(key);
    if (stored == nullptr || stored->work_job_id != f.row.id) {
      orphan_ended(f.row.id);
      return;
    }
    auto& r = change(key, stored);
    auto outcome = outcome_of(f.row.status, f.row.result_type, f.row.result);
    r.work_job_id.clear();
    r.state = outcome.state;
    if (outcome.state == resource_state::failed)
      record_error(r, outcome.message, now_, st_.context.options.max_errors);
    if (r.dirty) {
      // Informed while it ran: the newer object gets one more work.
      schedule(r, true);
      return;
    }
    if (outcome.state != resource_state::failed)
      return;
    if (r.attempts >= r.max_attempts) {
      r.state = resource_state::degraded;
      return;
    }
    r.next_attempt_at = now_ + backoff(r.attempts, options(r.kind)).count();
    timers.emplace_back(key, r.next_attempt_at);
  }

  void dispatched(const std::string& job_id) {
    auto owner = st_.job_owner.find(job_id);
    if (owner == st_.job_owner.end())
      return;
    const auto* stored = find(owner->second);
    if (stored == nullptr || stored->work_job_id != job_id ||
        (stored->state != resource_state::scheduled &&
         stored->state != resource_state::expired))
      return;
    change(owner->second, stored).state = resource_state::pending;
  }

  void retry(const std::string& key, timestamp_ms due) {
    const auto* stored = find(key);
    if (stored == nullptr || stored->state != resource_state::failed ||
        stored->next_attempt_at != due)
      return;
    schedule(change(key, stored), false);
  }

  void rework(const std::string& key, const std::string& job_id) {
    const auto* stored = find(key);
    if (stored == nullptr)
      return;
    if (stored->work_job_id == job_id) {
      if (!stored->dirty)
        change(key, stored).dirty = true;
    } else if (stored->work_job_id.empty() && stored->state != resource_state::degraded) {
      // The job ended before its arguments could be replaced: it worked an older object.
      schedule(change(key, stored), true);
    }
  }

  void lost_job(const std::string& key) {
    const auto* stored = find(key);
    if (stored != nullptr && !stored->work_job_id.empty())
      schedule(change(key, stored), false);
  }

  void change_kind(resource_kind_record settings) {
    settings.cluster_id = st_.context.cluster_id;
    settings.updated_at = now_;
    auto& row = kind_row(settings.kind);
    settings.last_informed_at = row.last_informed_at;
    // A settings change keeps the informer's error (or the one this step stores).
    settings.inform_error = row.inform_error;
    row = settings;
    kinds[settings.kind] = std::move(settings);
  }

  void change_namespace(resource_namespace_record settings) {
    settings.cluster_id = st_.context.cluster_id;
    settings.updated_at = now_;
    write.namespaces.push_back(settings);
    touched_.insert(settings.name);
    namespaces[settings.name] = std::move(settings);
  }

  resource_command_result command(const resource_command& c) {
    auto key = key_of(c.kind, c.id);
    const auto* stored = find(key);
    if (stored == nullptr)
      return {"not_found", {}};
    std::string state{to_string(stored->state)};
    if (c.remove) {
      remove(key);
      return {"removed", state};
    }
    if (stored->state != resource_state::synced)
      return {"not_synced", state};
    expire(key, stored);
    return {"invalidated", std::string{to_string(find(key)->state)}};
  }

  /// Expires and purges the resources whose namespace's timers are due.
  void scan() {
    for (const auto& [key, committed] : st_.entries) {
      const auto* r = find(key);
      const auto* ns = r == nullptr ? nullptr : namespace_of(r->namespace_name);
      if (ns == nullptr || !has_timers(*ns))
        continue;
      switch (due_now(*r, *ns, now_)) {
      case due_action::expire:
        expire(key, r);
        break;
      case due_action::purge:
        remove(key);
        break;
      case due_action::none:
        break;
      }
    }
  }

  /// The namespaces' waiting resources may take free slots.
  void touch(const std::vector<std::string>& names) {
    touched_.insert(names.begin(), names.end());
  }

  /// Gives the waiting resources of the namespaces this step touched a work job, oldest
  /// first, while their namespace has a free slot (all of them when it has no limit).
  void release_held() {
    std::unordered_map<std::string, std::int64_t> delta;
    bool counted = false;
    std::vector<std::string> names(touched_.begin(), touched_.end());
    for (const auto& name : names) {
      auto committed = st_.held.find(name);
      auto fresh = held_new_.find(name);
      if ((committed == st_.held.end() || committed->second.empty()) &&
          fresh == held_new_.end())
        continue;
      auto limit = max_workers(name);
      if (limit > 0 && !counted) {
        delta = works_delta();
        counted = true;
      }
      std::int64_t works = 0;
      if (auto it = st_.works.find(name); it != st_.works.end())
        works = it->second;
      works += delta[name];
      // False once the namespace has no free slot.
      auto take = [&](const std::string& key) {
        if (limit > 0 && works >= limit)
          return false;
        const auto* r = find(key);
        if (r != nullptr && is_held(*r) && r->namespace_name == name) {
          start_work(change(key, r));
          ++works;
        }
        return true;
      };
      bool room = true;
      if (committed != st_.held.end())
        for (auto it = committed->second.begin(); room && it != committed->second.end();
             ++it)
          room = take(*it);
      if (fresh != held_new_.end())
        for (auto it = fresh->second.begin(); room && it != fresh->second.end(); ++it)
          room = take(*it);
    }
  }

  /// The informer run of `kind` that started at `started_at` is written by this step.
  void informed(const std::string& kind, timestamp_ms started_at) {
    auto& row = kind_row(kind);
    row.last_informed_at = started_at;
    row.inform_error.clear();
    informed_runs.emplace_back(kind, started_at);
  }

  /// An informer run of `kind` failed: its error is stored with the kind's last run.
  void informer_failed(const std::string& kind, const std::string& error) {
    kind_row(kind).inform_error = error;
  }

  bool writes_nothing() const {
    return changed.empty() && write.kinds.empty() && write.namespaces.empty() &&
           removed_.empty();
  }

  resource_write write;
  std::unordered_map<std::string, resource_record> changed;
  /// Failed resources whose retry falls due (key, time).
  std::vector<std::pair<std::string, timestamp_ms>> timers;
  /// A committed queued job coalesced into: its resource, the job, its new arguments.
  struct replaced_args {
    std::string key;
    std::string job_id;
    std::string args;
    /// The step's record of the resource (in `changed`) as of its last coalesce; not
    /// to be read once the key is in removed_ (remove erased it).
    const resource_record* record = nullptr;
  };
  /// The committed queued jobs coalesced into, one entry per job.
  std::vector<replaced_args> replaces;
  /// Kinds whose settings this step changes.
  std::unordered_map<std::string, resource_kind_record> kinds;
  /// Namespaces whose settings this step changes.
  std::unordered_map<std::string, resource_namespace_record> namespaces;
  /// Resources removed (keys), and the jobs they leave queued or running (job,
  /// namespace).
  std::unordered_set<std::string> removed_;
  std::vector<std::pair<std::string, std::string>> new_orphans;
  /// Jobs of removed resources that ended.
  std::vector<std::string> ended_orphans;
  /// Resources this step made wait for a slot, by namespace.
  std::unordered_map<std::string, std::vector<std::string>> held_new_;
  /// Namespaces whose works or settings this step changed.
  std::unordered_set<std::string> touched_;
  /// Answers of namespace and command requests: called with null once the step is
  /// committed, or with the error of its commit.
  std::vector<std::function<void(const caf::error*)>> replies;
  /// Informer runs this step records (kind, start).
  std::vector<std::pair<std::string, timestamp_ms>> informed_runs;

private:
  /// `name`'s settings as this step sees them; null when it has none.
  const resource_namespace_record* namespace_of(const std::string& name) const {
    if (auto it = namespaces.find(name); it != namespaces.end())
      return &it->second;
    if (auto it = st_.namespaces.find(name); it != st_.namespaces.end())
      return &it->second;
    return nullptr;
  }

  std::int32_t max_workers(const std::string& name) const {
    const auto* ns = namespace_of(name);
    return ns == nullptr ? 0 : ns->max_workers;
  }

  void hold(const resource_record& r) {
    held_new_[r.namespace_name].push_back(key_of(r.kind, r.id));
    touched_.insert(r.namespace_name);
  }

  /// A synced resource is worked again (expiry or invalidate).
  void expire(const std::string& key, const resource_record* stored) {
    schedule(change(key, stored), true, resource_state::expired);
  }

  /// Removes the resource's row. Its work still queued is withdrawn in the same commit
  /// (a job of this very step is not created at all); one already running is left to
  /// end, its result ignored. Either counts against its namespace until its job ends.
  void remove(const std::string& key) {
    const auto* stored = find(key);
    if (stored == nullptr)
      return;
    touched_.insert(stored->namespace_name);
    if (has_work(*stored) && !drop_new_job(stored->work_job_id)) {
      new_orphans.emplace_back(stored->work_job_id, stored->namespace_name);
      write.withdraw.push_back(stored->work_job_id);
    }
    if (removed_.insert(key).second)
      write.removed.push_back(
          resource_key{st_.context.cluster_id, stored->kind, stored->id});
    changed.erase(key);
  }

  /// Takes back a work job this step creates; false when `job_id` is not one.
  bool drop_new_job(const std::string& job_id) {
    auto it = new_jobs_.find(job_id);
    if (it == new_jobs_.end())
      return false;
    auto index = it->second;
    write.jobs.erase(write.jobs.begin() + static_cast<std::ptrdiff_t>(index));
    new_jobs_.erase(it);
    for (auto& [id, position] : new_jobs_)
      if (position > index)
        --position;
    return true;
  }

  /// A job ended that belongs to no resource: if a removed resource's, its slot is free.
  void orphan_ended(const std::string& job_id) {
    for (auto it = new_orphans.begin(); it != new_orphans.end(); ++it)
      if (it->first == job_id) {
        touched_.insert(it->second);
        new_orphans.erase(it);
        return;
      }
    if (auto it = st_.orphans.find(job_id);
        it != st_.orphans.end() &&
        std::find(ended_orphans.begin(), ended_orphans.end(), job_id) ==
            ended_orphans.end()) {
      touched_.insert(it->second);
      ended_orphans.push_back(job_id);
    }
  }

  /// How this step changes the works of each namespace (apply makes it so).
  std::unordered_map<std::string, std::int64_t> works_delta() const {
    std::unordered_map<std::string, std::int64_t> delta;
    auto committed_work = [&](const std::string& key) {
      if (auto it = st_.entries.find(key);
          it != st_.entries.end() && has_work(it->second))
        --delta[it->second.namespace_name];
    };
    for (const auto& [key, r] : changed) {
      if (has_work(r))
        ++delta[r.namespace_name];
      if (removed_.count(key) == 0)
        committed_work(key);
    }
    for (const auto& key : removed_)
      committed_work(key);
    for (const auto& [job, name] : new_orphans)
      ++delta[name];
    for (const auto& job : ended_orphans)
      --delta[st_.orphans.at(job)];
    return delta;
  }

  /// The row of `kind` this step writes: one per kind, as one statement may not write a
  /// row twice; a new one starts from the kind's settings as this step sees them, with
  /// the informer's error in effect (every write of the row stores it).
  resource_kind_record& kind_row(const std::string& kind) {
    for (auto& row : write.kinds)
      if (row.kind == kind)
        return row;
    resource_kind_record row;
    if (auto it = kinds.find(kind); it != kinds.end())
      row = it->second;
    else if (auto stored = st_.kinds.find(kind); stored != st_.kinds.end())
      row = stored->second;
    row.cluster_id = st_.context.cluster_id;
    row.kind = kind;
    row.last_informed_at = 0;
    write.kinds.push_back(std::move(row));
    return write.kinds.back();
  }

  /// `kind`'s options as this step sees them.
  resource_options options(const std::string& kind) const {
    if (auto it = kinds.find(kind); it != kinds.end())
      return options_for(st_.context.options, &it->second);
    auto it = st_.kinds.find(kind);
    return options_for(st_.context.options,
                       it == st_.kinds.end() ? nullptr : &it->second);
  }

  resources_state& st_;
  /// The step in flight this one is planned on (null: on the committed state).
  const step_plan* base_ = nullptr;
  timestamp_ms now_ = 0;
  std::unordered_map<std::string, std::size_t> new_jobs_;
  /// Committed jobs this step coalesces into, and their entry in replaces.
  std::unordered_map<std::string, std::size_t> updated_jobs_;
};

void arm_retry(self_pointer self, const std::string& key, timestamp_ms due) {
  auto wait = std::max<timestamp_ms>(due - self->state.context.wall_clock(), 0);
  self->delayed_send(self, std::chrono::milliseconds{wait}, retry_due_atom::value, key,
                     due);
}

/// Expiry and retention are found by scanning every resource on a coarse tick (while any
/// namespace has them), not by an index of due times: an index would have to follow every
/// state change and every change of a namespace's settings, while the scan costs about a
/// millisecond per 100,000 resources a tick, and a timer a tick late does no harm.
void arm_scan(self_pointer self) {
  auto& st = self->state;
  if (st.scan_armed ||
      std::none_of(st.namespaces.begin(), st.namespaces.end(),
                   [](const auto& ns) { return has_timers(ns.second); }))
    return;
  st.scan_armed = true;
  self->delayed_send(self, st.context.options.timer_scan_interval,
                     timer_scan_atom::value);
}

/// The namespaces' side of a committed step: removed resources, the works of orphans and
/// the resources waiting for a slot (before the changed resources replace the entries).
void apply_namespaces(resources_state& st, step_plan& plan) {
  for (const auto& key : plan.removed_) {
    auto it = st.entries.find(key);
    if (it == st.entries.end())
      continue;
    if (has_work(it->second)) {
      st.job_owner.erase(it->second.work_job_id);
      st.works[it->second.namespace_name] -= 1;
    }
    st.entries.erase(it);
  }
  for (auto& [job, name] : plan.new_orphans) {
    st.works[name] += 1;
    st.orphans[job] = name;
  }
  for (const auto& job : plan.ended_orphans)
    if (auto it = st.orphans.find(job); it != st.orphans.end()) {
      st.works[it->second] -= 1;
      st.orphans.erase(it);
    }
  // The works of the changed resources are counted as apply takes them in (one lookup
  // of each entry).
  for (auto& [name, keys] : plan.held_new_) {
    auto& queue = st.held[name];
    queue.insert(queue.end(), keys.begin(), keys.end());
  }
  for (auto& [name, settings] : plan.namespaces)
    st.namespaces[name] = std::move(settings);
}

/// Drops the keys at the front of the touched namespaces' waiting lists that no longer
/// wait (after the changed resources are in the entries).
void trim_held(resources_state& st, const step_plan& plan) {
  for (const auto& name : plan.touched_) {
    auto it = st.held.find(name);
    if (it == st.held.end())
      continue;
    auto& queue = it->second;
    while (!queue.empty()) {
      auto entry = st.entries.find(queue.front());
      if (entry != st.entries.end() && is_held(entry->second) &&
          entry->second.namespace_name == name)
        break;
      queue.pop_front();
    }
    if (queue.empty())
      st.held.erase(it);
  }
}

void arm_informer(self_pointer self, const informer_schedule::timer& timer) {
  auto wait = timer.due - self->state.context.wall_clock();
  if (wait <= 0)
    self->send(self, inform_due_atom::value, timer.kind, timer.generation);
  else
    self->delayed_send(self, std::chrono::milliseconds{wait}, inform_due_atom::value,
                       timer.kind, timer.generation);
}

/// Takes a kind's informer settings in (loaded, or committed by a PUT); before the
/// cluster told its live runs, they wait in `kinds` (adopt_informer_runs).
void configure_informer(self_pointer self, const resource_kind_record& kind) {
  auto& st = self->state;
  if (!st.informer_runs_known)
    return;
  if (auto timer = st.informers.configure(kind.kind, kind.inform_interval_seconds,
                                          kind.last_informed_at, st.context.wall_clock()))
    arm_informer(self, *timer);
}

/// The cluster's load found `runs` live: each kind waits for its run, then every kind's
/// informer is scheduled.
void adopt_informer_runs(self_pointer self, const std::vector<job_record>& runs) {
  auto& st = self->state;
  for (const auto& job : runs) {
    auto kind = kind_of_service(job.service);
    st.informers.adopt(kind, job.id, job.created_at);
    spdlog::info("event=informer_run_adopted cluster={} kind={} job={}",
                 st.context.cluster_id, kind, job.id);
  }
  st.informer_runs_known = true;
  for (const auto& [kind, settings] : st.kinds)
    configure_informer(self, settings);
}

void step(self_pointer self);

/// A run of `kind` failed: the next interval may start one, and its error is stored
/// with the kind (shown as informError, also after a restart or a hand-off).
void informer_failed(self_pointer self, const std::string& kind,
                     const std::string& error) {
  auto& st = self->state;
  st.informers.failed(kind, error);
  st.queue.push_back(inform_failed_op{kind, st.informers.last_error(kind)});
  step(self);
}

/// A kind's informer timer fired: starts a run unless one is in flight. Its job is
/// committed (and admitted) on its own, apart from the steps.
void run_informer(self_pointer self, const std::string& kind, std::uint64_t generation) {
  auto& st = self->state;
  auto now = st.context.wall_clock();
  std::optional<informer_schedule::timer> next;
  auto start = st.informers.fire(kind, generation, now, next);
  if (next)
    arm_informer(self, *next);
  if (!start)
    return;
  auto settings = st.kinds.find(kind);
  auto timeout = options_for(st.context.options,
                             settings == st.kinds.end() ? nullptr : &settings->second)
                     .work_timeout_seconds;
  resource_write write;
  write.cluster_id = st.context.cluster_id;
  write.jobs.push_back(informer_job(st.context.cluster_id, new_job_id(st.random), kind,
                                    st.informers.last_run_at(kind), timeout));
  auto job_id = write.jobs.back().id;
  st.informers.started(kind, job_id, now);
  self->request(st.context.host, caf::infinite, std::move(write))
      .then([](done_atom) {},
            [self, kind, job_id](caf::error& err) {
              auto& st = self->state;
              if (st.informers.kind_of(job_id) == nullptr)
                return;
              informer_failed(self, kind,
                              "the run's job could not be stored: " + message_of(err));
              spdlog::warn("event=informer_failed cluster={} kind={} reason=\"{}\"",
                           st.context.cluster_id, kind, st.informers.last_error(kind));
            });
}

void step(self_pointer self);

/// A job of an informer finished: true when it was one (a work job's function is not
/// `inform`). Its resources join the next step; a failed run waits for the next interval.
bool informer_finished(self_pointer self, job_finished& finished) {
  auto& st = self->state;
  if (finished.target_fn != inform_function)
    return false;
  const auto* owner = st.informers.kind_of(finished.row.id);
  if (owner == nullptr)
    return true; // a run of an earlier owner of the cluster, or of an old setting
  auto kind = *owner;
  auto outcome =
      informer_outcome_of(finished.row.status, finished.row.result_type,
                          finished.row.result, st.context.options.decode_informed);
  if (!outcome.ok) {
    informer_failed(self, kind, outcome.error);
    spdlog::warn("event=informer_failed cluster={} kind={} job={} reason=\"{}\"",
                 st.context.cluster_id, kind, finished.row.id, outcome.error);
    return true;
  }
  st.queue.push_back(
      informed_op{kind, st.informers.run_started_at(kind), std::move(outcome.items)});
  step(self);
  return true;
}

/// The informer side of a committed step: settings to take in, runs that succeeded.
void apply_informers(self_pointer self, const step_plan& plan) {
  auto& st = self->state;
  for (const auto& [kind, settings] : plan.kinds)
    configure_informer(self, settings);
  for (const auto& [kind, started_at] : plan.informed_runs)
    st.informers.succeeded(kind, started_at);
}

/// The new arguments of the committed queued jobs the step coalesced into, read before
/// apply moves the step's records into the entries.
struct replacements {
  std::vector<std::string> job_ids;
  std::vector<std::string> args;
  /// The resource of each job, to rework it.
  std::shared_ptr<std::unordered_map<std::string, std::string>> owners;
};

/// The arguments of each job of plan.replaces as the step leaves its resource: those of
/// its last coalesce, unless a later change of the step gave the resource another job;
/// none for a resource the step removed.
replacements replacements_of(step_plan& plan) {
  replacements out;
  out.owners = std::make_shared<std::unordered_map<std::string, std::string>>();
  for (auto& [key, job_id, replaced, record] : plan.replaces) {
    const resource_record* r = record;
    if (plan.removed_.count(key) > 0) {
      // Removed, perhaps informed anew after that: its record is the new one, if any.
      auto it = plan.changed.find(key);
      if (it == plan.changed.end())
        continue;
      r = &it->second;
    }
    out.args.push_back(r->work_job_id == job_id ? std::move(replaced) : work_args(*r));
    out.job_ids.push_back(job_id);
    out.owners->emplace(job_id, key);
  }
  return out;
}

/// Gives the committed queued jobs the step coalesced into their new arguments in their
/// pools, all in one request: a job that was no longer queued ran an older object, so
/// its resource gets one more work (rework).
void replace_queued_args(self_pointer self, replacements replaced) {
  auto& st = self->state;
  if (replaced.job_ids.empty())
    return;
  auto rework = [self, owners = replaced.owners](const std::vector<std::string>& missed) {
    for (const auto& job_id : missed)
      if (auto it = owners->find(job_id); it != owners->end())
        self->send(self, rework_atom::value, it->second, job_id);
  };
  auto asked = replaced.job_ids;
  self->request(st.context.host, caf::infinite, replace_args_atom::value,
                std::move(replaced.job_ids), std::move(replaced.args))
      .then([rework](std::vector<std::string>& missed) { rework(missed); },
            [rework, asked = std::move(asked)](caf::error&) { rework(asked); });
}

/// The step committed: its changes become the committed state, then its follow-ups run.
void apply(self_pointer self, step_plan& plan) {
  auto& st = self->state;
  auto replaced = replacements_of(plan);
  apply_namespaces(st, plan);
  apply_informers(self, plan);
  // One lookup of each entry: its works per namespace and its job's owner change only
  // when its job or namespace did (a coalesced inform changes neither).
  for (auto& [key, r] : plan.changed) {
    auto [it, fresh] = st.entries.try_emplace(key);
    auto& entry = it->second;
    const bool had_work = !fresh && has_work(entry);
    const bool same_job = had_work && entry.work_job_id == r.work_job_id;
    if (!(same_job && entry.namespace_name == r.namespace_name)) {
      if (had_work)
        st.works[entry.namespace_name] -= 1;
      if (has_work(r))
        st.works[r.namespace_name] += 1;
    }
    if (!same_job) {
      if (had_work)
        st.job_owner.erase(entry.work_job_id);
      if (has_work(r))
        st.job_owner[r.work_job_id] = key;
    }
    entry = std::move(r);
  }
  trim_held(st, plan);
  arm_scan(self);
  for (auto& [kind, settings] : plan.kinds)
    st.kinds[kind] = std::move(settings);
  // The informer's error as stored, for the next write of the row (kind_row).
  for (const auto& row : plan.write.kinds)
    st.kinds[row.kind].inform_error = row.inform_error;
  for (auto& [key, due] : plan.timers)
    arm_retry(self, key, due);
  replace_queued_args(self, std::move(replaced));
}

/// Takes a namespace's or a command's operation into the plan.
void take_namespace_op(self_pointer self, step_plan& plan, operation& op) {
  if (auto* ns = std::get_if<namespace_op>(&op)) {
    plan.change_namespace(ns->settings);
    plan.replies.emplace_back([self, promise = ns->promise,
                               name = ns->settings.name](const caf::error* err) mutable {
      if (err != nullptr)
        promise.deliver(*err);
      else
        promise.deliver(effective_namespace(self->state, name));
    });
  } else if (auto* command = std::get_if<command_op>(&op)) {
    plan.replies.emplace_back(
        [promise = command->promise,
         result = plan.command(command->command)](const caf::error* err) mutable {
          if (err != nullptr)
            promise.deliver(*err);
          else
            promise.deliver(std::move(result));
        });
  } else if (std::holds_alternative<scan_op>(op)) {
    plan.scan();
  } else if (auto* release = std::get_if<release_op>(&op)) {
    plan.touch(release->namespaces);
  }
}

/// Answers an events poll from memory, from Postgres when its cursor is older than
/// memory, or parks it while there is nothing after its cursor yet.
void answer_events(self_pointer self, events_promise promise,
                   resource_events_request request) {
  auto& st = self->state;
  if (request.after < st.events.floor()) {
    auto read = request;
    read.cluster_id = st.context.cluster_id;
    read.up_to = st.events.floor();
    self->request(st.context.reader, caf::infinite, read)
        .then(
            [self, promise, request,
             up_to = read.up_to](std::vector<resource_event_record>& events) mutable {
              if (events.empty()) {
                // None stored after the cursor: go on from where memory starts.
                request.after = up_to;
                answer_events(self, promise, std::move(request));
                return;
              }
              auto cursor = events.back().seq;
              promise.deliver(resource_events_page{std::move(events), cursor});
            },
            [promise](caf::error& err) mutable { promise.deliver(err); });
    return;
  }
  auto page = st.events.read(request.after, static_cast<std::size_t>(request.limit));
  if (!page.events.empty() || request.ttl_ms <= 0 ||
      st.context.parked.try_park() != parked_polls::refusal::none) {
    // Nothing to wait for, or no place to wait: the caller asks again.
    promise.deliver(std::move(page));
    return;
  }
  auto id = st.next_events_waiter++;
  auto ttl = std::chrono::milliseconds{request.ttl_ms};
  st.events_waiters.emplace(id, events_waiter{promise, std::move(request)});
  self->delayed_send(self, ttl, events_due_atom::value, id);
}

/// Answers the parked events poll `id` (if still parked) with what there is now.
void wake_events_waiter(self_pointer self, std::uint64_t id) {
  auto& st = self->state;
  auto it = st.events_waiters.find(id);
  if (it == st.events_waiters.end())
    return;
  auto waiter = std::move(it->second);
  st.events_waiters.erase(it);
  st.context.parked.unpark();
  waiter.request.ttl_ms = 0;
  answer_events(self, std::move(waiter.promise), std::move(waiter.request));
}

void wake_events_waiters(self_pointer self) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, waiter] : self->state.events_waiters)
    ids.push_back(id);
  for (auto id : ids)
    wake_events_waiter(self, id);
}

/// A step's events are durable: memory keeps them and every parked poll gets them (a
/// poll parks only with its cursor at the newest event, so any new one is news to it).
void events_committed(self_pointer self,
                      const std::vector<resource_event_record>& events) {
  if (events.empty())
    return;
  self->state.events.committed(events);
  wake_events_waiters(self);
}

/// A step's plan and what answers it: the informs' results, the kinds' answers, and the
/// operations it took (some are given back when its commit fails).
struct planned_step {
  std::shared_ptr<step_plan> plan;
  std::vector<std::pair<results_promise, std::vector<inform_result>>> answers;
  std::vector<std::pair<caf::typed_response_promise<resource_kind_record>, std::string>>
      kind_answers;
  std::vector<operation> taken;
  std::size_t items = 0;
};

/// Whether `op` may be planned on top of a step in flight: informs, and invalidations
/// and removals (one informed and removed in one step gets no work job). Settings
/// change what later operations decide, and the results of works come seldom in
/// batches of informs: they wait for the committed state.
bool carried_ahead(const operation& op) {
  return std::holds_alternative<inform_op>(op) || std::holds_alternative<command_op>(op);
}

/// Takes queued operations into `s` up to items_per_step items; `ahead`: stops at the
/// first one that may not be planned ahead (nothing may overtake it).
void take_ops(self_pointer self, planned_step& s, bool ahead) {
  auto& st = self->state;
  auto& plan = *s.plan;
  while (!st.queue.empty() && s.items < items_per_step) {
    if (ahead && !carried_ahead(st.queue.front()))
      return;
    auto op = std::move(st.queue.front());
    st.queue.pop_front();
    if (auto* inform = std::get_if<inform_op>(&op)) {
      std::vector<inform_result> results;
      results.reserve(inform->request.items.size());
      for (const auto& item : inform->request.items)
        results.push_back(inform_result{item.kind, item.id, plan.inform(item)});
      s.items += inform->request.items.size();
      s.answers.emplace_back(inform->promise, std::move(results));
    } else if (auto* finished = std::get_if<finished_op>(&op)) {
      plan.finished(finished->finished);
      ++s.items;
    } else if (auto* dispatched = std::get_if<dispatched_op>(&op)) {
      plan.dispatched(dispatched->job_id);
    } else if (auto* retry = std::get_if<retry_op>(&op)) {
      plan.retry(retry->key, retry->due);
    } else if (auto* rework = std::get_if<rework_op>(&op)) {
      plan.rework(rework->key, rework->job_id);
    } else if (auto* lost = std::get_if<lost_job_op>(&op)) {
      plan.lost_job(lost->key);
    } else if (auto* kind = std::get_if<kind_op>(&op)) {
      s.kind_answers.emplace_back(kind->promise, kind->settings.kind);
      plan.change_kind(kind->settings);
    } else if (auto* informed = std::get_if<informed_op>(&op)) {
      for (const auto& item : informed->items)
        plan.inform(item);
      s.items += informed->items.size();
      plan.informed(informed->kind, informed->started_at);
    } else if (auto* failed = std::get_if<inform_failed_op>(&op)) {
      plan.informer_failed(failed->kind, failed->error);
    } else {
      take_namespace_op(self, plan, op);
    }
    s.taken.push_back(std::move(op));
  }
}

bool launch(self_pointer self, planned_step s);

/// The commit of `s` landed: the committed state takes its changes, the step planned
/// ahead is sent at once (its changes were planned on these), then `s` is answered.
void step_committed(self_pointer self, planned_step& s) {
  auto& st = self->state;
  st.in_flight.reset();
  auto ahead = std::move(st.ahead);
  if (ahead)
    ahead->plan->base_committed();
  auto& plan = *s.plan;
  apply(self, plan);
  auto sent = ahead && launch(self, std::move(*ahead));
  events_committed(self, plan.write.events);
  for (auto& [promise, results] : s.answers)
    promise.deliver(std::move(results));
  for (auto& [promise, kind] : s.kind_answers)
    promise.deliver(effective(self->state, kind));
  for (auto& reply : plan.replies)
    reply(nullptr);
  if (!sent) {
    step(self);
    return;
  }
  // The next step is planned a moment later: the actors share one thread (on two
  // cores), and the cluster passes the write just sent to the writer only once this
  // handler returns. Planned here, the next step kept the writer waiting as long as
  // before. (A message to itself would come before the cluster's turn: the actor reads
  // its whole mailbox at once.)
  self->delayed_send(self, std::chrono::milliseconds{0}, kick_atom::value);
}

/// The commit of `s` failed: its callers get the error, and what came from jobs and
/// timers is tried again shortly, as is all that was planned ahead on top of it (its
/// outcomes assumed the changes of `s`: decided again, answered after a commit of its
/// own).
void step_failed(self_pointer self, planned_step& s, const caf::error& err) {
  auto& st = self->state;
  st.in_flight.reset();
  auto ahead = std::move(st.ahead);
  spdlog::warn("event=resources_commit_failed cluster={} reason=\"{}\"",
               st.context.cluster_id, message_of(err));
  for (auto& [promise, results] : s.answers)
    promise.deliver(err);
  for (auto& [promise, kind] : s.kind_answers)
    promise.deliver(err);
  for (auto& reply : s.plan->replies)
    reply(&err);
  // Back at the front in the order they came: those of `s`, then those planned ahead.
  if (ahead)
    for (auto it = ahead->taken.rbegin(); it != ahead->taken.rend(); ++it)
      st.queue.push_front(std::move(*it));
  for (auto it = s.taken.rbegin(); it != s.taken.rend(); ++it)
    if (!std::holds_alternative<inform_op>(*it) &&
        !std::holds_alternative<kind_op>(*it) &&
        !std::holds_alternative<namespace_op>(*it) &&
        !std::holds_alternative<command_op>(*it))
      st.queue.push_front(std::move(*it));
  self->delayed_send(self, std::chrono::seconds{1}, kick_atom::value);
}

/// Sends the write of `s` (planned on the committed state) to be committed, or answers
/// it now when it writes nothing; true when its commit is in flight.
bool launch(self_pointer self, planned_step s) {
  auto& st = self->state;
  auto plan = s.plan;
  plan->release_held();
  if (plan->writes_nothing()) {
    for (auto& [promise, results] : s.answers)
      promise.deliver(std::move(results));
    for (auto& [promise, kind] : s.kind_answers)
      promise.deliver(effective(st, kind));
    for (auto& reply : plan->replies)
      reply(nullptr);
    return false;
  }
  for (auto& r : plan->changed) {
    plan->write.resources.push_back(r.second);
    // Every state change is an event, committed with the change.
    auto before = st.entries.find(r.first);
    if (auto event =
            transition(before == st.entries.end() ? nullptr : &before->second, r.second))
      plan->write.events.push_back(std::move(*event));
  }
  // A removed resource (a DELETE, or purged after its retention) ends with an event too.
  for (const auto& removed : plan->write.removed)
    if (auto last = st.entries.find(key_of(removed.kind, removed.id));
        last != st.entries.end())
      plan->write.events.push_back(purged(last->second, st.context.wall_clock()));
  st.events.number(plan->write.events);
  st.in_flight = plan;
  // The write goes to the cluster whole (a copy of 1,000 resources was a few percent
  // of a step); the step keeps the parts its follow-ups read after the commit.
  auto write = std::move(plan->write);
  plan->write.kinds = write.kinds;
  plan->write.events = write.events;
  auto shared = std::make_shared<planned_step>(std::move(s));
  self->request(st.context.host, caf::infinite, std::move(write))
      .then([self, shared](done_atom) { step_committed(self, *shared); },
            [self, shared](caf::error& err) { step_failed(self, *shared, err); });
  return true;
}

/// Plans the queued informs (and commands) on top of the step in flight, so that the
/// next step is ready to go when that one commits: one step commits at a time, and
/// planning a step only after the previous one committed left the writer idle meanwhile.
void plan_ahead(self_pointer self) {
  auto& st = self->state;
  if (st.queue.empty() || !carried_ahead(st.queue.front()))
    return;
  if (!st.ahead) {
    if (!st.in_flight->can_carry())
      return;
    st.ahead = std::make_shared<planned_step>();
    st.ahead->plan = std::make_shared<step_plan>(st, st.in_flight.get());
  }
  take_ops(self, *st.ahead, true);
}

void step(self_pointer self) {
  auto& st = self->state;
  while (!st.in_flight && !st.queue.empty()) {
    planned_step s;
    s.plan = std::make_shared<step_plan>(st);
    take_ops(self, s, false);
    launch(self, std::move(s));
  }
  if (st.in_flight)
    plan_ahead(self);
}

void enqueue(self_pointer self, operation op) {
  self->state.queue.push_back(std::move(op));
  step(self);
}

/// Takes the loaded resources in; a work job that ended while nobody applied its result
/// (a crash between the job's commit and the resource's) is applied now.
void restore(self_pointer self, resources_snapshot& snapshot) {
  auto& st = self->state;
  st.events.start(snapshot.last_event_seq, st.context.options.events_in_memory);
  // Informers are scheduled once the cluster tells its live runs (adopt_informer_runs).
  for (auto& kind : snapshot.kinds) {
    // Its last run failed (after the last success): the error as stored.
    if (!kind.inform_error.empty())
      st.informers.failed(kind.kind, kind.inform_error);
    st.kinds.insert_or_assign(kind.kind, std::move(kind));
  }
  for (auto& ns : snapshot.namespaces)
    st.namespaces.insert_or_assign(ns.name, std::move(ns));
  // The works of each namespace and the resources waiting for a slot (oldest first) are
  // recomputed from the resources.
  std::vector<std::pair<timestamp_ms, std::string>> waiting;
  auto& loaded = snapshot.resources;
  std::size_t failed = 0;
  for (auto& l : loaded) {
    auto key = key_of(l.resource.kind, l.resource.id);
    auto& r = l.resource;
    if (!r.work_job_id.empty()) {
      st.job_owner[r.work_job_id] = key;
      if (!l.job_found) {
        st.queue.push_back(lost_job_op{key});
      } else if (is_terminal(l.job_status_value)) {
        job_finished f;
        f.row = job_status_row{r.work_job_id, l.job_status_value, l.job_result_type,
                               std::move(l.job_result)};
        f.service = service_of(r.kind);
        st.queue.push_back(finished_op{std::move(f)});
      }
    }
    if (r.state == resource_state::failed && r.next_attempt_at != 0) {
      ++failed;
      arm_retry(self, key, r.next_attempt_at);
    }
    if (has_work(r))
      st.works[r.namespace_name] += 1;
    else if (is_held(r))
      waiting.emplace_back(r.updated_at, key);
    st.entries.insert_or_assign(std::move(key), std::move(r));
  }
  std::stable_sort(waiting.begin(), waiting.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  release_op release;
  for (auto& [at, key] : waiting) {
    const auto& name = st.entries.at(key).namespace_name;
    if (st.held.count(name) == 0)
      release.namespaces.push_back(name);
    st.held[name].push_back(std::move(key));
  }
  if (!release.namespaces.empty())
    st.queue.push_back(std::move(release));
  arm_scan(self);
  spdlog::info("event=resources_loaded cluster={} resources={} waiting_retries={} "
               "to_settle={}",
               st.context.cluster_id, st.entries.size(), failed, st.queue.size());
}

resources_actor::behavior_type resources_behavior(self_pointer self,
                                                  resources_context context) {
  auto& st = self->state;
  st.context = std::move(context);
  // Nothing else is taken before the resources are in (await).
  self->request(st.context.writer, caf::infinite, load_resources_atom::value,
                st.context.cluster_id)
      .await(
          [self](resources_snapshot& snapshot) {
            restore(self, snapshot);
            step(self);
          },
          [self](caf::error& err) {
            spdlog::error("event=resources_load_failed cluster={} reason=\"{}\"",
                          self->state.context.cluster_id, message_of(err));
            self->quit(err);
          });
  return {
      [self](
          resource_inform_request& request) -> caf::result<std::vector<inform_result>> {
        auto promise = self->make_response_promise<std::vector<inform_result>>();
        enqueue(self, inform_op{std::move(request), promise});
        return promise;
      },
      [self](resource_kind_request& request) -> caf::result<resource_kind_record> {
        if (!request.change)
          return effective(self->state, request.kind);
        auto promise = self->make_response_promise<resource_kind_record>();
        request.settings.kind = request.kind;
        enqueue(self, kind_op{std::move(request.settings), promise});
        return promise;
      },
      [self](job_finished& finished) {
        if (!informer_finished(self, finished))
          enqueue(self, finished_op{std::move(finished)});
      },
      [self](job_status_changed& change) {
        if (change.status == job_status::running)
          enqueue(self, dispatched_op{std::move(change.id)});
      },
      [self](retry_due_atom, std::string& key, timestamp_ms due) {
        enqueue(self, retry_op{std::move(key), due});
      },
      [self](rework_atom, std::string& key, std::string& job_id) {
        enqueue(self, rework_op{std::move(key), std::move(job_id)});
      },
      [self](kick_atom) { step(self); },
      [self](
          resource_namespace_request& request) -> caf::result<resource_namespace_record> {
        if (!request.change)
          return effective_namespace(self->state, request.name);
        auto promise = self->make_response_promise<resource_namespace_record>();
        request.settings.name = request.name;
        enqueue(self, namespace_op{std::move(request.settings), promise});
        return promise;
      },
      [self](resource_command& command) -> caf::result<resource_command_result> {
        auto promise = self->make_response_promise<resource_command_result>();
        enqueue(self, command_op{std::move(command), promise});
        return promise;
      },
      [self](timer_scan_atom) {
        self->state.scan_armed = false;
        enqueue(self, scan_op{});
        arm_scan(self);
      },
      [self](resource_events_request& request) -> caf::result<resource_events_page> {
        auto promise = self->make_response_promise<resource_events_page>();
        answer_events(self, promise, std::move(request));
        return promise;
      },
      [self](events_due_atom, std::uint64_t id) { wake_events_waiter(self, id); },
      [self](release_atom) { wake_events_waiters(self); },
      [self](inform_due_atom, std::string& kind, std::uint64_t generation) {
        run_informer(self, kind, generation);
      },
      [self](informer_runs_atom, std::vector<job_record>& runs) {
        adopt_informer_runs(self, runs);
      },
  };
}

} // namespace

resources_actor spawn_resources(caf::local_actor* parent, resources_context context) {
  return parent->spawn<caf::linked>(resources_behavior, std::move(context));
}

} // namespace diffplane
