#pragma once

// Internal to the cluster actor: its state and the functions its behaviour is built
// from, split over cluster_actor.cpp (routing), cluster_waiters.cpp (status polls and
// finished jobs) and cluster_machines.cpp (machines, definitions, sweeps).

#include "actors/cluster_actor.hpp"
#include "actors/expiry_schedule.hpp"
#include "actors/held_bytes.hpp"
#include "actors/job_index.hpp"
#include "actors/refusal_rows.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <unordered_map>

namespace diffplane::cluster_internal {

using steady_time = caf::actor_clock::time_point;
using rows_promise = caf::typed_response_promise<std::vector<job_status_row>>;

/// When a waiter takes a job's result: once its write committed, or as soon as the
/// worker posted it (the write still in flight).
enum class result_moment { committed, posted };

/// A parked GET /jobs/:id or /batch-jobs-status-request, or a native call's wait.
struct result_waiter {
  rows_promise promise;
  std::vector<std::string> ids;
  /// The index entry of each id, or null when the job is not in memory. An entry with
  /// waiters is never dropped, so these stay valid while the waiter is parked.
  std::vector<job_entry*> entries;
  /// Rows of jobs that were not in memory, read from the database.
  std::vector<job_status_row> stored;
  result_moment moment = result_moment::committed;
  /// When its ttl runs out (its entry in cluster_state::waiter_expiries).
  steady_time expires_at;
};

struct machine_state {
  machine_record record;
  steady_time last_seen;
  steady_time last_written;
  bool inactive = false;
  /// The pools the machine polled: only they can have given it attempts, so only they
  /// hear when it goes silent.
  std::vector<pool_id> pools;
};

/// A service with a pool (cluster_pools.cpp).
struct service_state {
  std::string name;
  pool_actor pool;
  /// When the cluster last sent the pool work or heard that one of its jobs moved.
  steady_time last_active;
  /// Messages of work sent to the pool: an agreement to retire is void when this
  /// changed since the question.
  std::uint64_t traffic = 0;
  /// Live jobs of the cluster's index in this pool; a pool holding one is not asked
  /// to retire.
  std::size_t live_jobs = 0;
  /// Asked to retire and not yet answered.
  bool retiring = false;
};

struct cache_hit {
  std::string job_id;
  timestamp_ms resulted_at = 0;
};

/// A load in progress: the cluster serves while its live jobs arrive in pages
/// (cluster_actor.cpp, load_next_page).
struct load_progress {
  /// Jobs created from this time on were not loaded (cluster_snapshot::load_before).
  timestamp_ms before = 0;
  /// The live jobs the whole load brings (live_jobs_page::total; -1: not counted yet),
  /// and how many of them the pages brought so far: the live-job cap counts the rest.
  std::int64_t total = -1;
  std::size_t received = 0;
  std::size_t live_jobs = 0;
  std::size_t recovered = 0;
  std::size_t adopted = 0;
  std::size_t failed = 0;
  /// Copies of the live informer runs, told to the resources actor once all are loaded.
  std::vector<job_record> informer_runs;
  /// Requests that wait for the end of the load: they may concern a job not loaded yet
  /// (a result or status poll of it, a create with its execution id). Run in order.
  std::vector<std::function<void(const caf::error&)>> held;
};

struct cluster_state {
  cluster_context context;
  /// Set by a hand-off: client requests are refused as `moved`.
  bool quiescing = false;
  /// Set while the cluster's live jobs are still loading, after it began to serve.
  bool loading = false;
  load_progress load;
  /// Long-polls parked in this cluster (its pools' polls and its result waiters).
  parked_polls parked;
  /// Activity rows of refused results, shared with the pools and their job actors.
  refusal_rows refusals;
  /// The services with a pool; their number is capped (max_services_per_cluster).
  std::unordered_map<pool_id, service_state> services;
  std::unordered_map<std::string, pool_id> service_index;
  pool_id next_pool_id = 1;
  /// Function names by service, as the service's workers announced them.
  std::map<std::string, std::vector<std::string>> definitions;
  /// The services of `definitions` without a pool, oldest first: at most
  /// max_services_per_cluster of them are remembered.
  std::deque<std::string> retired_definitions;
  job_index jobs;
  /// How many of `jobs` are live (pending or running): the cap counts these.
  std::size_t live_jobs = 0;
  /// The payload bytes the cluster holds (max_live_bytes_per_cluster counts these): the
  /// shares of `jobs` (job_entry::bytes) and the arguments of creates whose insert is in
  /// flight. While a load runs, the jobs it has still to bring are not counted.
  held_bytes held;
  /// Finished jobs in the order they finished, to drop their results after the linger.
  std::deque<std::pair<steady_time, std::string>> finished;
  std::unordered_map<std::uint64_t, result_waiter> waiters;
  std::uint64_t next_waiter_id = 1;
  expiry_schedule<steady_time> waiter_expiries;
  std::unordered_map<std::string, machine_state> machines;
  /// Keyed by service, function and cache key (joined by '\0').
  std::unordered_map<std::string, cache_hit> cache;
  /// Creates of an execution id whose insert is sent and not yet answered, each with the
  /// repeated creates that joined it: a caller retrying after a timeout gets the same
  /// job, and its retry adds no second write to the writer's queue.
  std::unordered_map<std::string, std::vector<caf::typed_response_promise<std::string>>>
      creating;
  /// This cluster's places in the writer's queue (domain_options::writer_queue), given
  /// back when their writes are answered, or all at once when the cluster ends: a
  /// cluster killed with writes in flight never hears their answers.
  std::size_t queued_writes = 0;
  std::mt19937_64 random;
  /// The cluster's resources (cluster_resources.cpp), spawned with the cluster.
  resources_actor resources;
  std::uint64_t sweeps = 0;
  /// The sweep chain (cluster_actor.cpp): only a sweep of this generation runs and arms
  /// the next, `sweep_every` later (0: not armed yet).
  std::uint64_t sweep_generation = 0;
  std::chrono::milliseconds sweep_every{0};
  /// The cluster's live jobs created before this are in live_jobs, so no job may be
  /// created before it: a restart would look for it in neither place.
  timestamp_ms live_jobs_before = 0;
  /// The newest creation time among the jobs this cluster created or loaded (0: none):
  /// while it is before live_jobs_before there is nothing to move, and an idle cluster
  /// writes nothing.
  timestamp_ms newest_created_at = 0;
  static inline const char* name = "diffplane.cluster";

  cluster_state() = default;
  cluster_state(const cluster_state&) = delete;
  ~cluster_state();
};

using self_pointer = cluster_actor::stateful_pointer<cluster_state>;

/// Now as epoch milliseconds, from the cluster's clock seam.
inline timestamp_ms wall_now(self_pointer self) {
  return self->state.context.options.wall_clock();
}

/// The creation time of a job created now: never before the last live_jobs move, whatever
/// the wall clock did since, nor before a job that the load reads
/// (load_progress::before), so that no page reads it again.
inline timestamp_ms new_job_created_at(self_pointer self) {
  const auto& st = self->state;
  return std::max({wall_now(self), st.live_jobs_before, st.load.before});
}

std::string cache_key_of(const std::string& service, const std::string& fn,
                         const std::string& key);

// cluster_actor.cpp
/// A committed pending job enters the index and its pool's FIFO.
void admit_job(self_pointer self, job_record job);
/// While the cluster loads its live jobs, keeps `request` to run at the end of the load
/// (with no error), or when the cluster moves first (with that error), and answers true;
/// false when the cluster is not loading.
bool hold_while_loading(self_pointer self,
                        std::function<void(const caf::error&)> request);

// cluster_resources.cpp: the hooks of resource controllers
/// Spawns the cluster's resources actor (it loads the resources itself).
void start_resources(self_pointer self);
/// Commits a write of the resources actor, then admits its work jobs.
caf::result<done_atom> commit_resources(self_pointer self, resource_write& write);
/// Replaces the arguments of jobs still queued in their pools (`args[i]` for
/// `job_ids[i]`); answers the ids it did not replace.
caf::result<std::vector<std::string>> replace_queued_args(self_pointer self,
                                                          std::vector<std::string>& job_ids,
                                                          std::vector<std::string>& args);
/// Tells the resources actor which informer runs the load found live (jobs of function
/// inform of service resources.*, each still queued or running), so that it waits for
/// them rather than start a second run of their kind. Sent once, after every load.
void forward_live_informer_runs(self_pointer self, std::vector<job_record> runs);
/// Whether `job` is an informer run (function inform of service resources.*).
bool is_informer_run(const job_record& job);
/// Tells the resources actor of a work job that finished (service resources.*).
void forward_finished_work(self_pointer self, const job_finished& finished);
/// Tells the resources actor of a work job of pool `pool` that changed state.
void forward_work_change(self_pointer self, const job_status_changed& change,
                         pool_id pool);
caf::result<std::vector<inform_result>>
inform_resources(self_pointer self, resource_inform_request& request);
caf::result<resource_page> query_resources(self_pointer self, resource_query& query);
/// GET /resources/events, answered (or parked) by the resources actor.
caf::result<resource_events_page> resource_events(self_pointer self,
                                                  resource_events_request& request);
caf::result<std::vector<resource_count>> count_resources(self_pointer self,
                                                         resource_counts_query& query);

// cluster_pools.cpp
/// The id of `service`'s pool, spawning the pool on first use.
pool_id pool_of(self_pointer self, const std::string& service);
/// The pool `id` (which must exist), counting the work about to be sent to it.
pool_actor& pool_for_work(self_pointer self, pool_id id);
/// Records that a job of pool `id` moved (dispatched, resulted); no-op without it.
void note_pool_activity(self_pointer self, pool_id id);
/// Adds `delta` to the live jobs of pool `id`, if it still exists.
void count_live_job(cluster_state& st, pool_id id, int delta);
/// Asks the pools idle and empty for pool_retention to retire (the handshake is
/// described in cluster_pools.cpp).
void retire_idle_pools(self_pointer self, steady_time now);

// cluster_queries.cpp: the operator's views of the cluster
caf::result<cluster_details> details_of(self_pointer self);
caf::result<service_details> service_details_of(self_pointer self,
                                                const service_details_request& request);
cluster_settings settings_of(self_pointer self);
caf::result<done_atom> change_settings(self_pointer self,
                                       const cluster_settings& settings);
caf::result<job_detail> job_detail_of(self_pointer self, const std::string& id);

// cluster_waiters.cpp
caf::result<std::vector<job_status_row>>
answer_status(self_pointer self, status_request request,
              result_moment moment = result_moment::committed);
void on_job_finished(self_pointer self, job_finished& finished);
/// Whether a waiter of `entry`'s job takes its result as posted (job_actor.hpp).
bool waits_for_posted(const cluster_state& st, const job_entry& entry);
/// A durable job's result whose write is in flight: answers the waiters that take it as
/// posted.
void on_result_posted(self_pointer self, const job_status_row& row);
/// The timer armed for `armed` (expiry_schedule::encode) fired: answers the waiters
/// whose ttl ran out.
void expire_waiters(self_pointer self, std::uint64_t armed);
void release_waiters(self_pointer self);
void drop_lingering_results(self_pointer self, steady_time now);

// cluster_actor.cpp
/// Brings an idle cluster's sweeps back to every sweep_interval: work arrived.
void wake_sweeps(self_pointer self);

// cluster_machines.cpp
/// Records that a machine was heard from; writes it when new, changed or due.
void touch_machine(self_pointer self, const std::string& machine_id,
                   const std::string& service, const std::string& ip,
                   const std::string& deployment_id,
                   std::chrono::milliseconds busy_for = std::chrono::milliseconds{0});
/// Records a service's function names as its worker announced them.
void announce_functions(self_pointer self, const std::string& service,
                        const std::vector<std::string>& functions);
/// Marks silent machines inactive and tells the pools to stall their attempts.
void detect_silent_machines(self_pointer self, steady_time now);
/// A machine's connection ended (a native worker): it is inactive at once and its
/// pools stall its attempts and drop its parked polls.
void machine_gone(self_pointer self, const std::string& machine_id);

} // namespace diffplane::cluster_internal
