#include "actors/cluster_state.hpp"

#include "actors/activity.hpp"
#include "actors/job_ids.hpp"
#include "actors/job_lifecycle.hpp"
#include "metrics/catalog.hpp"
#include "persistence/errors.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <optional>

namespace diffplane::cluster_internal {

cluster_state::~cluster_state() {
  parked.unpark(waiters.size());
  held.unpublish(metrics::jobs().live_bytes);
  if (context.options.writer_queue)
    context.options.writer_queue->fetch_sub(queued_writes, std::memory_order_relaxed);
}

std::string cache_key_of(const std::string& service, const std::string& fn,
                         const std::string& key) {
  std::string joined;
  joined.reserve(service.size() + fn.size() + key.size() + 2);
  joined.append(service).push_back('\0');
  joined.append(fn).push_back('\0');
  joined.append(key);
  return joined;
}

namespace {

/// Makes `entry` the live entry of `job` in pool `pool`. Its share of the held bytes
/// becomes the job's arguments, in place of what it counted before (a result, when a
/// finished job is admitted again; the same arguments, when a live one is).
void fill_live_entry(cluster_state& st, job_entry& entry, pool_id pool,
                     const job_record& job) {
  auto share = entry.bytes;
  entry = job_entry{pool, job.status, result_kind::none, job.durable, share, {}, {}};
  st.held.recount(entry.bytes, job.target_args.size());
}

/// A committed pending job enters the index under `entry` (new, or found by
/// job_index::enter_live: `is_new` false); returns its pool.
pool_id index_job(self_pointer self, job_entry& entry, bool is_new,
                  const job_record& job) {
  auto& st = self->state;
  auto pool = pool_of(self, job.service);
  if (is_new || is_terminal(entry.status))
    ++st.live_jobs;
  else
    count_live_job(st, entry.pool, -1);
  count_live_job(st, pool, 1);
  fill_live_entry(st, entry, pool, job);
  return pool;
}

/// A live job read by the load enters the index under `entry`, which try_emplace has
/// just made for it (revive may have finished the job since: then it is not called).
pool_id index_loaded_job(self_pointer self, job_entry& entry, const job_record& job) {
  auto& st = self->state;
  auto pool = pool_of(self, job.service);
  ++st.live_jobs;
  count_live_job(st, pool, 1);
  fill_live_entry(st, entry, pool, job);
  return pool;
}

/// A committed pending job enters the index and its pool's FIFO.
void admit(self_pointer self, job_record job) {
  // One lookup: this runs for every job created.
  auto [entry, is_new] = self->state.jobs.enter_live(job.id);
  auto pool = index_job(self, *entry, is_new, job);
  self->send(pool_for_work(self, pool), enqueue_atom::value, std::move(job));
}

/// Admits a new job whose id was generated: no entry can have it, so no lookup of the
/// finished jobs.
void admit_new(self_pointer self, job_record job) {
  auto pool = index_job(self, self->state.jobs.enter_new(job.id), true, job);
  self->send(pool_for_work(self, pool), enqueue_atom::value, std::move(job));
}

/// A live job read from the database that the cluster did not hold: its running attempt
/// was lost with its holder and counts as stalled. Returns whether the job is to be
/// queued; false when it failed instead, its attempts spent (`failure_reason`).
bool revive(self_pointer self, job_record& job, timestamp_ms now,
            const std::string& failure_reason, std::vector<event_record>& events) {
  auto& st = self->state;
  auto found = job.status;
  if (!lifecycle::recover(job, now))
    return true;
  caf::anon_send(st.context.writer, lifecycle::state_of(job));
  events.push_back(activity::job_recovered(job, found, job.executing_machine_id));
  if (job.status != job_status::failure)
    return true;
  events.push_back(activity::job_failed(job, failure_reason));
  job_finished finished{lifecycle::status_row_of(job), job.service, job.target_fn,
                        job.cache_key, job.resulted_at};
  // Counts no arguments: on_job_finished makes its share its result at once.
  auto& entry = *st.jobs.enter_live(job.id).first;
  auto share = entry.bytes;
  entry = job_entry{
      pool_of(self, job.service), job.status, result_kind::none, true, share, {}, {}};
  on_job_finished(self, finished);
  return false;
}

/// Whether `job`, found running at the load, is adopted rather than counted as stalled:
/// its lease was handed over, and its machine is known, so that its silence can stall
/// the attempt later.
bool adoptable(self_pointer self, const job_record& job) {
  const auto& st = self->state;
  return st.context.adopt_running_attempts && job.status == job_status::running &&
         st.machines.count(job.executing_machine_id) > 0;
}

/// Rebuilds the cluster's row, services, machines and cache from a snapshot: enough to
/// serve. Its live jobs follow in pages (load_next_page).
void restore_settings(self_pointer self, cluster_snapshot& snapshot) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (!snapshot.cluster.id.empty())
    st.context.cluster = std::move(snapshot.cluster);
  st.live_jobs_before = snapshot.live_jobs_before;
  st.load.before = snapshot.load_before;
  // Definitions need no pool: a service gets one when a job or a poll names it.
  for (auto& service : snapshot.services) {
    st.retired_definitions.push_back(service.name);
    st.definitions.insert_or_assign(std::move(service.name),
                                    std::move(service.functions));
  }
  while (st.retired_definitions.size() > st.context.options.max_services_per_cluster) {
    st.definitions.erase(st.retired_definitions.front());
    st.retired_definitions.pop_front();
  }
  for (auto& machine : snapshot.machines) {
    auto id = machine.id;
    // Silent since before the restart as far as we know; the clock starts now.
    st.machines.emplace(std::move(id),
                        machine_state{std::move(machine), now, now, false, {}});
  }
  for (auto& entry : snapshot.cache_entries)
    st.cache.insert_or_assign(
        cache_key_of(entry.service, entry.target_fn, entry.cache_key),
        cache_hit{entry.job_id, entry.resulted_at});
}

/// Admits a page of live jobs. A job found running was running on a node that died, and
/// that attempt counts as stalled; unless the node handed the cluster over (adoptable).
void restore_jobs(self_pointer self, std::vector<job_record>& jobs) {
  auto& st = self->state;
  auto& load = st.load;
  auto wall_time = wall_now(self);
  std::vector<event_record> events;
  // Batches per pool rather than a message per job: a million messages queued at once
  // would cost more than the jobs they carry.
  std::unordered_map<pool_id, std::vector<job_record>> pending_by_pool;
  std::unordered_map<pool_id, std::vector<job_record>> adopted_by_pool;
  for (auto& job : jobs) {
    // One lookup a job, the entry made here: with a million jobs each lookup is a few
    // cache misses, and the index was the load's slowest part.
    auto [entry, is_new] = st.jobs.enter_live(job.id);
    // Already held: admitted while the load ran (a create that found its execution id
    // in the database, admit_if_live).
    if (!is_new)
      continue;
    ++load.live_jobs;
    st.newest_created_at = std::max(st.newest_created_at, job.created_at);
    if (adoptable(self, job)) {
      auto pool = index_loaded_job(self, *entry, job);
      // Its pool hears of the machine's silence like a pool the machine polled.
      auto& pools = st.machines.at(job.executing_machine_id).pools;
      if (std::find(pools.begin(), pools.end(), pool) == pools.end())
        pools.push_back(pool);
      if (is_informer_run(job))
        load.informer_runs.push_back(job);
      adopted_by_pool[pool].push_back(std::move(job));
      ++load.adopted;
      continue;
    }
    if (job.status != job_status::pending)
      ++load.recovered;
    if (!revive(self, job, wall_time, "no attempts left after a node restart", events)) {
      ++load.failed;
      continue;
    }
    if (is_informer_run(job))
      load.informer_runs.push_back(job);
    auto pool = index_loaded_job(self, *entry, job);
    auto& batch = pending_by_pool[pool];
    if (batch.empty())
      batch.reserve(jobs.size());
    batch.push_back(std::move(job));
  }
  for (auto& [pool, batch] : pending_by_pool)
    self->send(pool_for_work(self, pool), enqueue_atom::value, std::move(batch));
  for (auto& [pool, batch] : adopted_by_pool)
    self->send(pool_for_work(self, pool), adopt_atom::value, std::move(batch));
  if (!events.empty())
    caf::anon_send(st.context.writer, std::move(events));
}

/// The live jobs of the load still to come; 0 when no load runs or before the count.
std::size_t not_loaded_yet(const cluster_state& st) {
  if (!st.loading || st.load.total < 0)
    return 0;
  auto total = static_cast<std::size_t>(st.load.total);
  return total > st.load.received ? total - st.load.received : 0;
}

/// Runs the requests held for the end of the load: with `err` (the cluster is moving)
/// they answer it, else they are served as if they arrived now.
void run_held(self_pointer self, const caf::error& err) {
  auto held = std::move(self->state.load.held);
  self->state.load.held.clear();
  for (auto& request : held)
    request(err);
}

void finish_load(self_pointer self, steady_time started) {
  auto& st = self->state;
  st.loading = false;
  forward_live_informer_runs(self, std::move(st.load.informer_runs));
  st.load.informer_runs.clear();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(self->clock().now() -
                                                                    started);
  spdlog::info("event=cluster_loaded cluster={} definitions={} pools={} machines={} "
               "live_jobs={} recovered_attempts={} adopted_attempts={} failed={} "
               "held_requests={} load_ms={}",
               st.context.cluster.id, st.definitions.size(), st.services.size(),
               st.machines.size(), st.load.live_jobs, st.load.recovered, st.load.adopted,
               st.load.failed, st.load.held.size(), took.count());
  run_held(self, {});
}

/// Asks the writer for the next page of live jobs and admits it: the cluster serves
/// between pages, and the writer reads page N+1 while the cluster admits page N.
void load_next_page(self_pointer self, steady_time started) {
  auto& st = self->state;
  auto limit = std::max(st.context.options.load_page_jobs, std::int32_t{1});
  self->request(st.context.writer, caf::infinite,
                live_jobs_page_request{st.context.cluster.id, limit})
      .then(
          [self, limit, started](live_jobs_page& page) {
            auto& load = self->state.load;
            bool last = page.jobs.size() < static_cast<std::size_t>(limit);
            if (!last)
              load_next_page(self, started);
            if (page.total >= 0 && load.total < 0) {
              load.total = page.total;
              // Room for every job still to come at once, not a rehash of a growing
              // index every time it doubles.
              self->state.jobs.reserve_live(
                  static_cast<std::size_t>(page.total) -
                  std::min(load.received, static_cast<std::size_t>(page.total)));
            }
            load.received += page.jobs.size();
            restore_jobs(self, page.jobs);
            if (last)
              finish_load(self, started);
          },
          [self](caf::error& err) {
            spdlog::error("event=cluster_load_failed cluster={} reason=\"{}\"",
                          self->state.context.cluster.id, message_of(err));
            // The requests held for the end of the load get the error now: the actor's
            // end would drop their promises, and their callers would wait for nothing.
            run_held(self, err);
            self->quit(err);
          });
}

/// Reads a job the cluster does not hold and admits it if it is still live; `done` gets
/// no error once the job is held (or finished), else the read's error. A create that
/// found its execution id in the database answers only then: acknowledged while the
/// read failed, the job would sit in Postgres in no pool until the next restart.
void admit_if_live(self_pointer self, const std::string& id,
                   std::function<void(const caf::error&)> done) {
  auto& st = self->state;
  self->request(st.context.reader, caf::infinite, fetch_job_atom::value,
                st.context.cluster.id, id)
      .then(
          [self, done](std::vector<job_record>& found) {
            if (found.empty() || is_terminal(found.front().status) ||
                self->state.jobs.contains(found.front().id)) {
              done({});
              return;
            }
            auto& job = found.front();
            std::vector<event_record> events;
            if (revive(self, job, wall_now(self),
                       "no attempts left after its holder was lost", events))
              admit(self, std::move(job));
            if (!events.empty())
              caf::anon_send(self->state.context.writer, std::move(events));
            done({});
          },
          [self, id, done](caf::error& err) {
            spdlog::warn("event=job_admission_failed cluster={} job={} reason=\"{}\"",
                         self->state.context.cluster.id, id, message_of(err));
            done(err);
          });
}

/// Refuses a service or machine the cluster has no room for; none when there is room.
caf::error check_room(self_pointer self, const std::string& service,
                      const std::string& machine_id = {}) {
  auto& st = self->state;
  const auto& options = st.context.options;
  if (st.service_index.count(service) == 0 &&
      st.services.size() >= options.max_services_per_cluster)
    return make_error(error_code::limit_reached,
                      "the cluster has " + std::to_string(st.services.size()) +
                          " services, the most it may hold; service '" + service +
                          "' is refused");
  if (!machine_id.empty() && st.machines.count(machine_id) == 0 &&
      st.machines.size() >= options.max_machines_per_cluster)
    return make_error(error_code::limit_reached,
                      "the cluster has " + std::to_string(st.machines.size()) +
                          " machines, the most it may hold; machine '" + machine_id +
                          "' is refused");
  return {};
}

/// Takes a place in the writer's queue for one write, or refuses it when the queue is
/// full: a database that is slow or gone must cost callers a quick 503, not the server
/// its memory. The caller gives the place back once the write is answered.
caf::error enter_writer_queue(self_pointer self) {
  const auto& options = self->state.context.options;
  auto& queued = *options.writer_queue;
  if (queued.load(std::memory_order_relaxed) >= options.max_writer_queue) {
    metrics::persistence().refused_writes.add();
    return make_error(
        error_code::overloaded,
        "the database is not keeping up: " + std::to_string(options.max_writer_queue) +
            " writes are waiting for it (--writer-queue-limit); retry "
            "later");
  }
  queued.fetch_add(1, std::memory_order_relaxed);
  ++self->state.queued_writes;
  return {};
}

void leave_writer_queue(self_pointer self) {
  --self->state.queued_writes;
  self->state.context.options.writer_queue->fetch_sub(1, std::memory_order_relaxed);
}

/// Answers the creates that joined the create of `execution_id` like the create itself.
template <class Answer>
void answer_joined(self_pointer self, const std::string& execution_id,
                   const Answer& answer) {
  if (execution_id.empty())
    return;
  auto node = self->state.creating.extract(execution_id);
  if (node.empty())
    return;
  for (auto& joined : node.mapped())
    joined.deliver(answer);
}

using id_promise = caf::typed_response_promise<std::string>;

/// An ephemeral job (create_job_request::durable false) is admitted at once: nothing is
/// written, so the caller's ack waits for no commit and a restart forgets the job. Its
/// execution id is looked up in memory only (create_uncached did).
void create_ephemeral(self_pointer self, const create_job_request& request,
                      id_promise& promise) {
  auto& st = self->state;
  auto id = request.execution_id.empty() ? new_job_id(st.random) : request.execution_id;
  // Not newest_created_at: it only decides whether live jobs are to be moved in
  // Postgres, where this job never is.
  auto job = lifecycle::make_job(st.context.cluster.id, id, request,
                                 std::max(wall_now(self), st.live_jobs_before));
  metrics::jobs().created.add();
  metrics::jobs().created_ephemeral.add();
  admit(self, std::move(job));
  promise.deliver(id);
}

/// Answers `promise` with the job `request` names by its execution id (held, or being
/// written: then it joins that write), or else with a new job once its insert committed.
void create_uncached(self_pointer self, const create_job_request& request,
                     id_promise promise) {
  auto& st = self->state;
  if (!request.execution_id.empty()) {
    if (st.jobs.contains(request.execution_id)) {
      promise.deliver(request.execution_id);
      return;
    }
    if (auto it = st.creating.find(request.execution_id); it != st.creating.end()) {
      it->second.push_back(std::move(promise));
      return;
    }
  }
  if (auto refused = check_room(self, request.service)) {
    promise.deliver(refused);
    return;
  }
  // Creates whose insert is in flight are not counted yet: the cap can be passed by as
  // many as the writer's queue holds. While the load runs, the jobs it has still to
  // bring count too (from its second page on, once they are counted).
  auto live_jobs = st.live_jobs + not_loaded_yet(st);
  if (live_jobs >= st.context.options.max_live_jobs_per_cluster) {
    promise.deliver(make_error(
        error_code::limit_reached,
        "the cluster holds " + std::to_string(live_jobs) +
            " live jobs, the most it may; new jobs are refused until some finish"));
    return;
  }
  // The bytes of jobs a load has still to bring are unknown until their page arrives:
  // only what is held counts, so the budget can be passed by the jobs of a load.
  if (auto refused = check_byte_budget(st.held, request.target_args.size(),
                                       st.context.options.max_live_bytes_per_cluster)) {
    promise.deliver(refused);
    return;
  }
  if (!request.durable) {
    create_ephemeral(self, request, promise);
    return;
  }
  if (auto refused = enter_writer_queue(self)) {
    promise.deliver(refused);
    return;
  }
  auto id = request.execution_id.empty() ? new_job_id(st.random) : request.execution_id;
  if (!request.execution_id.empty())
    st.creating.emplace(id, std::vector<id_promise>{});
  auto created_at = new_job_created_at(self);
  st.newest_created_at = std::max(st.newest_created_at, created_at);
  auto job = lifecycle::make_job(st.context.cluster.id, id, request, created_at);
  job.id_generated = request.execution_id.empty();
  // The arguments count while the insert is in flight too (the writer's queue holds
  // thousands of them), then as the admitted job's.
  byte_share inserting = 0;
  st.held.recount(inserting, job.target_args.size());
  self->request(st.context.writer, caf::infinite, job)
      .then(
          [self, promise, job = std::move(job), execution_id = request.execution_id,
           inserting](bool inserted) mutable {
            leave_writer_queue(self);
            self->state.held.release(inserting);
            auto id = job.id;
            auto answer = [self, promise, id,
                           execution_id](const caf::error& err) mutable {
              if (err) {
                answer_joined(self, execution_id, err);
                promise.deliver(err);
              } else {
                answer_joined(self, execution_id, id);
                promise.deliver(id);
              }
            };
            // A generated id is new: only a create of an execution id may find its job
            // held (created meanwhile, or loaded).
            if (!execution_id.empty() && self->state.jobs.contains(id)) {
              answer({});
            } else if (inserted) {
              metrics::jobs().created.add();
              if (execution_id.empty())
                admit_new(self, std::move(job));
              else
                admit(self, std::move(job));
              answer({});
            } else {
              // The execution id existed already, yet the cluster does not hold the
              // job: it finished long ago, or its commit was never acknowledged.
              admit_if_live(self, id, std::move(answer));
            }
          },
          [self, promise, execution_id = request.execution_id,
           inserting](caf::error& err) mutable {
            leave_writer_queue(self);
            self->state.held.release(inserting);
            answer_joined(self, execution_id, err);
            promise.deliver(err);
          });
}

/// Whether a cache miss in memory may still have a hit in Postgres: the cluster keeps
/// resolutions for `cache_horizon`, and the caller's ttl reaches further back.
bool reaches_beyond_memory(self_pointer self, const create_job_request& request) {
  auto horizon = std::chrono::duration_cast<std::chrono::seconds>(
                     self->state.context.options.cache_horizon)
                     .count();
  return request.cache_ttl_seconds > horizon;
}

/// Looks for a resolution older than the cluster keeps in memory; creates the job when
/// there is none.
void create_after_lookup(self_pointer self, create_job_request request,
                         id_promise promise) {
  auto& st = self->state;
  auto query = cached_resolution_query{
      st.context.cluster.id, request.service, request.target_fn, request.cache_key,
      wall_now(self) - request.cache_ttl_seconds * 1000LL};
  self->request(st.context.reader, caf::infinite, std::move(query))
      .then(
          [self, request = std::move(request),
           promise](std::vector<cache_entry_record>& found) mutable {
            if (!found.empty())
              promise.deliver(std::move(found.front().job_id));
            else
              create_uncached(self, request, std::move(promise));
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
}

/// The job a resolution in memory answers `request` with (empty: none); `lookup` tells
/// whether a resolution in Postgres may still answer it.
std::string cache_hit_of(self_pointer self, const create_job_request& request,
                         bool& lookup) {
  auto& st = self->state;
  lookup = !request.cache_key.empty() && request.cache_ttl_seconds > 0;
  if (!lookup)
    return {};
  auto it =
      st.cache.find(cache_key_of(request.service, request.target_fn, request.cache_key));
  if (it != st.cache.end()) {
    if (it->second.resulted_at + request.cache_ttl_seconds * 1000LL > wall_now(self))
      return it->second.job_id;
    lookup = false; // the newest resolution is too old for this ttl, so is every other
    return {};
  }
  lookup = reaches_beyond_memory(self, request);
  return {};
}

/// Answers `promise` with the job `request` resolves to, or creates it.
void create_job_into(self_pointer self, create_job_request& request, id_promise promise) {
  bool lookup = false;
  if (auto hit = cache_hit_of(self, request, lookup); !hit.empty())
    promise.deliver(std::move(hit));
  else if (lookup)
    create_after_lookup(self, std::move(request), promise);
  else
    create_uncached(self, request, promise);
}

caf::result<std::string> create_job(self_pointer self, create_job_request& request) {
  auto promise = self->make_response_promise<std::string>();
  // Its execution id may name a job not loaded yet: a create now would make a second.
  if (!request.execution_id.empty() &&
      hold_while_loading(self, [self, request, promise](const caf::error& err) mutable {
        if (err)
          promise.deliver(err);
        else
          create_job_into(self, request, promise);
      }))
    return promise;
  create_job_into(self, request, promise);
  return promise;
}

/// Refuses a result of a finished job; `durable` false: an ephemeral job, which leaves no
/// row, its activity included.
void refuse_result(self_pointer self, const job_result_post& post,
                   const std::string& service, bool durable = true) {
  metrics::jobs().results_not_persisted.add();
  if (!durable || !self->state.refusals.take(self->clock().now()))
    return;
  caf::anon_send(
      self->state.context.writer,
      std::vector<event_record>{activity::result_not_persisted(
          self->state.context.cluster.id, service, post, "the job already finished")});
}

/// Has the writer move the jobs still live `live_jobs_delay` after their creation to
/// live_jobs. The move queues behind every job insert and state write this cluster sent
/// before it, and no job is created before its boundary afterwards, so a restart finds
/// every live job either in live_jobs or among the jobs created since.
void move_older_live_jobs(self_pointer self) {
  auto& st = self->state;
  // The pages of a load find the moved jobs by the boundary read at its start.
  if (st.loading)
    return;
  auto before = wall_now(self) - std::chrono::duration_cast<std::chrono::milliseconds>(
                                     st.context.options.live_jobs_delay)
                                     .count();
  // Nothing to move while no job was created at or after the last boundary (0: none).
  bool nothing_new =
      st.newest_created_at == 0 || st.newest_created_at < st.live_jobs_before;
  if (before <= st.live_jobs_before || nothing_new)
    return;
  st.live_jobs_before = before;
  caf::anon_send(st.context.writer, live_jobs_move{st.context.cluster.id, before});
}

using bool_promise = caf::typed_response_promise<bool>;

/// The pool of the live job in memory that `post` answers; none when the job is not in
/// memory (`known` false), or when it finished or its pool is gone: then the result is
/// refused here. `durable` tells whether the job is, `posted_waited` whether a waiter
/// takes its result as posted.
std::optional<pool_id> pool_of_result(self_pointer self, const job_result_post& post,
                                      bool& known, bool& durable, bool& posted_waited) {
  auto& st = self->state;
  auto* entry = st.jobs.find(post.job_id);
  known = entry != nullptr;
  if (!known)
    return std::nullopt;
  durable = entry->durable;
  posted_waited = durable && waits_for_posted(st, *entry);
  // A live job keeps its pool (count_live_job); a finished one may outlive it.
  auto service = st.services.find(entry->pool);
  if (is_terminal(entry->status) || service == st.services.end()) {
    refuse_result(self, post,
                  service == st.services.end() ? std::string{} : service->second.name,
                  durable);
    return std::nullopt;
  }
  return service->first;
}

/// A result of a job not in memory: one finished long ago gets "not persisted", an
/// unknown one 404.
void answer_unknown_result(self_pointer self, const job_result_post& post,
                           bool_promise promise) {
  auto& st = self->state;
  self->request(st.context.reader, caf::infinite, fetch_statuses_atom::value,
                st.context.cluster.id, std::vector<std::string>{post.job_id})
      .then(
          [self, promise, post](std::vector<job_status_row>& rows) mutable {
            if (rows.empty()) {
              promise.deliver(
                  make_error(error_code::not_found, "job " + post.job_id + " not found"));
              return;
            }
            refuse_result(self, post, {});
            promise.deliver(false);
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
}

/// Routes a result that waited for the end of the load.
void route_held_result(self_pointer self, job_result_post& post, bool_promise promise) {
  bool known = false;
  bool durable = true;
  bool posted_waited = false;
  if (auto pool = pool_of_result(self, post, known, durable, posted_waited))
    promise.delegate(pool_for_work(self, *pool), std::move(post), durable, posted_waited);
  else if (known)
    promise.deliver(false);
  else
    answer_unknown_result(self, post, promise);
}

caf::result<bool> route_result(self_pointer self, job_result_post& post) {
  touch_machine(self, post.machine_id, {}, post.ip, post.deployment_id);
  bool known = false;
  bool durable = true;
  bool posted_waited = false;
  if (auto pool = pool_of_result(self, post, known, durable, posted_waited))
    return self->delegate(pool_for_work(self, *pool), std::move(post), durable,
                          posted_waited);
  if (known)
    return false;
  auto promise = self->make_response_promise<bool>();
  // Not in memory while the load runs: its job may be in a page still to come.
  if (!hold_while_loading(self, [self, post, promise](const caf::error& err) mutable {
        if (err)
          promise.deliver(err);
        else
          route_held_result(self, post, promise);
      }))
    answer_unknown_result(self, post, promise);
  return promise;
}

/// The longest pause between the sweeps of an idle cluster.
constexpr std::chrono::milliseconds max_idle_sweep{32000};

void arm_sweep(self_pointer self, std::chrono::milliseconds after) {
  auto& st = self->state;
  st.sweep_every = after;
  self->delayed_send(self, after, sweep_atom::value, st.sweep_generation);
}

/// Whether a sweep has nothing to look after: no pool (so no live job), no result
/// lingering, no machine to watch, no job to move. The retention of inactive machines
/// and the cache's horizon wait for a later sweep.
bool idle_for_sweeps(const cluster_state& st) {
  return !st.loading && st.services.empty() && st.finished.empty() &&
         (st.newest_created_at == 0 || st.newest_created_at < st.live_jobs_before) &&
         std::all_of(st.machines.begin(), st.machines.end(),
                     [](const auto& entry) { return entry.second.inactive; });
}

/// Expires results, finds silent machines, retires idle pools and moves older live
/// jobs; then arms the next sweep, a sweep_interval later, or while the cluster is idle
/// twice as late as the last, up to max_idle_sweep: a node of a thousand idle clusters
/// sent itself a thousand sweeps a second.
void sweep(self_pointer self, std::uint64_t generation) {
  auto& st = self->state;
  if (generation != st.sweep_generation)
    return; // a chain that wake_sweeps replaced
  auto now = self->clock().now();
  drop_lingering_results(self, now);
  detect_silent_machines(self, now);
  retire_idle_pools(self, now);
  move_older_live_jobs(self);
  st.held.publish(metrics::jobs().live_bytes);
  auto base = st.context.options.sweep_interval;
  arm_sweep(self, idle_for_sweeps(st)
                      ? std::max(base, std::min(st.sweep_every * 2, max_idle_sweep))
                      : base);
}

} // namespace

void wake_sweeps(self_pointer self) {
  auto& st = self->state;
  if (st.sweep_every <= st.context.options.sweep_interval)
    return; // every sweep_interval already, or not armed before the load
  ++st.sweep_generation;
  arm_sweep(self, st.context.options.sweep_interval);
}

void admit_job(self_pointer self, job_record job) {
  admit(self, std::move(job));
}

bool hold_while_loading(self_pointer self,
                        std::function<void(const caf::error&)> request) {
  if (!self->state.loading)
    return false;
  self->state.load.held.push_back(std::move(request));
  return true;
}

namespace {

/// A live job moved (dispatched, requeued): the index follows.
void on_status_changed(self_pointer self, const job_status_changed& change) {
  auto* entry = self->state.jobs.find_live(change.id);
  if (entry != nullptr && !is_terminal(entry->status)) {
    entry->status = change.status;
    note_pool_activity(self, entry->pool);
    forward_work_change(self, change, entry->pool);
  }
}

caf::error moved_error(self_pointer self) {
  return make_error(error_code::moved, "cluster " + self->state.context.cluster.id +
                                           " is moving to another node; retry");
}

cluster_actor::behavior_type cluster_behavior(self_pointer self,
                                              cluster_context context) {
  auto& st = self->state;
  st.context = std::move(context);
  st.parked = parked_polls{st.context.parked, st.context.options.max_parked_polls,
                           st.context.options.max_parked_polls_per_cluster};
  st.refusals = refusal_rows{st.context.options.refused_result_rows_burst,
                             st.context.options.refused_result_rows_per_second};
  // Job ids come from this generator. Seeded with one 32-bit value, two incarnations of
  // a cluster (restarts, failovers) had one chance in 2^32 of sharing a seed and so
  // every id, and a repeated id makes a new call answer with the older job. Eight words
  // make that as unlikely as two random 128-bit ids meeting.
  std::random_device entropy;
  std::seed_seq seed{entropy(), entropy(), entropy(), entropy(),
                     entropy(), entropy(), entropy(), entropy()};
  st.random.seed(seed);
  // Before the load: jobs the restore finds finished are forwarded to it.
  start_resources(self);
  auto since = wall_now(self) - std::chrono::duration_cast<std::chrono::milliseconds>(
                                    st.context.options.cache_horizon)
                                    .count();
  self->request(st.context.writer, caf::infinite, load_cluster_atom::value,
                st.context.cluster.id, since)
      .then(
          [self](cluster_snapshot& snapshot) {
            auto& st = self->state;
            auto started = self->clock().now();
            restore_settings(self, snapshot);
            // Ready before its live jobs: they arrive in pages while the cluster serves.
            st.loading = true;
            spdlog::info("event=cluster_serving cluster={} definitions={} machines={}",
                         st.context.cluster.id, st.definitions.size(),
                         st.machines.size());
            self->send(st.context.parent, cluster_ready_atom::value,
                       st.context.cluster.id);
            arm_sweep(self, st.context.options.sweep_interval);
            load_next_page(self, started);
          },
          [self](caf::error& err) {
            spdlog::error("event=cluster_load_failed cluster={} reason=\"{}\"",
                          self->state.context.cluster.id, message_of(err));
            self->quit(err);
          });
  return {
      [self](job_status_changed& change) { on_status_changed(self, change); },
      [self](std::vector<job_status_changed>& changes) {
        for (const auto& change : changes)
          on_status_changed(self, change);
      },
      [self](job_finished& finished) { on_job_finished(self, finished); },
      [self](posted_result_atom, job_status_row& row) { on_result_posted(self, row); },
      [self](create_job_request& request) -> caf::result<std::string> {
        if (self->state.quiescing)
          return moved_error(self);
        return create_job(self, request);
      },
      [self](jobs_request& request) -> caf::result<std::vector<dispatched_job>> {
        if (self->state.quiescing)
          return moved_error(self);
        if (auto refused = check_room(self, request.service, request.machine_id))
          return refused;
        touch_machine(self, request.machine_id, request.service, request.ip,
                      request.deployment_id, std::chrono::milliseconds{request.ttl_ms});
        if (request.announces_functions)
          announce_functions(self, request.service, request.functions);
        auto pool = pool_of(self, request.service);
        return self->delegate(pool_for_work(self, pool), std::move(request));
      },
      [self](job_result_post& post) -> caf::result<bool> {
        if (self->state.quiescing)
          return moved_error(self);
        return route_result(self, post);
      },
      [self](status_request& request) -> caf::result<std::vector<job_status_row>> {
        if (self->state.quiescing)
          return moved_error(self);
        return answer_status(self, std::move(request));
      },
      [self](posted_result_atom,
             status_request& request) -> caf::result<std::vector<job_status_row>> {
        if (self->state.quiescing)
          return moved_error(self);
        return answer_status(self, std::move(request), result_moment::posted);
      },
      [self](client_events_post& post) -> caf::result<done_atom> {
        if (self->state.quiescing)
          return moved_error(self);
        for (auto& event : post.events)
          event.cluster_id = self->state.context.cluster.id;
        if (auto refused = enter_writer_queue(self))
          return refused;
        auto promise = self->make_response_promise<done_atom>();
        self->request(self->state.context.writer, caf::infinite, std::move(post.events))
            .then(
                [self, promise](done_atom) mutable {
                  leave_writer_queue(self);
                  promise.deliver(done_atom::value);
                },
                [self, promise](caf::error& err) mutable {
                  leave_writer_queue(self);
                  promise.deliver(err);
                });
        return promise;
      },
      [self](details_atom) { return details_of(self); },
      [self](service_details_request& request) {
        return service_details_of(self, request);
      },
      [self](settings_atom) { return settings_of(self); },
      [self](cluster_settings& settings) { return change_settings(self, settings); },
      [self](activity_query& query) -> caf::delegated<std::vector<event_record>> {
        query.cluster_id = self->state.context.cluster.id;
        return self->delegate(self->state.context.reader, std::move(query));
      },
      [self](metrics_query& query) -> caf::delegated<function_metrics> {
        query.cluster_id = self->state.context.cluster.id;
        return self->delegate(self->state.context.reader, std::move(query));
      },
      [self](fetch_job_atom, const std::string& id) { return job_detail_of(self, id); },
      [self](
          resource_inform_request& request) -> caf::result<std::vector<inform_result>> {
        if (self->state.quiescing)
          return moved_error(self);
        return inform_resources(self, request);
      },
      [self](resource_query& query) { return query_resources(self, query); },
      [self](resource_events_request& request) -> caf::result<resource_events_page> {
        if (self->state.quiescing)
          return moved_error(self);
        return resource_events(self, request);
      },
      [self](resource_counts_query& query) { return count_resources(self, query); },
      [self](resource_kind_request& request) -> caf::result<resource_kind_record> {
        if (request.change && self->state.quiescing)
          return moved_error(self);
        return self->delegate(self->state.resources, std::move(request));
      },
      [self](
          resource_namespace_request& request) -> caf::result<resource_namespace_record> {
        if (request.change && self->state.quiescing)
          return moved_error(self);
        return self->delegate(self->state.resources, std::move(request));
      },
      [self](resource_command& command) -> caf::result<resource_command_result> {
        if (self->state.quiescing)
          return moved_error(self);
        return self->delegate(self->state.resources, std::move(command));
      },
      [self](resource_write& write) { return commit_resources(self, write); },
      [self](replace_args_atom, std::vector<std::string>& job_ids,
             std::vector<std::string>& args) {
        return replace_queued_args(self, job_ids, args);
      },
      [self](sweep_atom, std::uint64_t generation) { sweep(self, generation); },
      [self](waiter_expired_atom, std::uint64_t armed) { expire_waiters(self, armed); },
      [self](machine_inactive_atom, const std::string& machine_id) {
        machine_gone(self, machine_id);
      },
      [self](machine_alive_atom, const std::string& machine_id) {
        // Only a machine that polled before: an unknown id creates nothing.
        if (self->state.machines.count(machine_id) > 0)
          touch_machine(self, machine_id, {}, {}, {});
      },
      [self](release_atom) {
        release_waiters(self);
        self->send(self->state.resources, release_atom::value);
        for (auto& [id, service] : self->state.services)
          self->send(service.pool, release_atom::value);
      },
      [self](quiesce_atom) {
        self->state.quiescing = true;
        run_held(self, moved_error(self));
        // Parked events polls ask again, and find the cluster where it moves to.
        self->send(self->state.resources, release_atom::value);
      },
      [self](stop_atom) {
        // Not a normal exit: the pools and the resources actor are linked, and CAF's
        // default exit handler ignores a normal one. A pool with a running attempt (which
        // holds the pool's handle) was then never unreachable either, and lived on after
        // a hand-off: its timers ran, and the process hung at its end waiting for it.
        self->quit(caf::exit_reason::user_shutdown);
      },
  };
}

} // namespace

} // namespace diffplane::cluster_internal

namespace diffplane {

cluster_actor spawn_cluster(caf::local_actor* parent_actor, cluster_context context) {
  return parent_actor->spawn<caf::monitored>(cluster_internal::cluster_behavior,
                                             std::move(context));
}

} // namespace diffplane
