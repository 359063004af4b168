#pragma once

#include "actors/cluster_notifications.hpp"
#include "actors/resources_actor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace diffplane {

/// One tenant cluster: its settings, machines, service definitions, a pool per service,
/// the index of its live jobs, the cache, and the parked result waiters.
using cluster_actor = cluster_notifications::extend<
    /// Creates a job; answers its id once committed (or the id of a cached or existing
    /// one).
    caf::replies_to<create_job_request>::with<std::string>,
    caf::replies_to<jobs_request>::with<std::vector<dispatched_job>>,
    /// Answers whether the result was persisted; unknown jobs are not_found.
    caf::replies_to<job_result_post>::with<bool>,
    caf::replies_to<status_request>::with<std::vector<job_status_row>>,
    /// A status wait answered as soon as a job's result is posted, before its write
    /// commits (a native call that does not ask for the committed result). Across nodes
    /// it waits for the commit, as a plain status_request.
    caf::replies_to<posted_result_atom,
                    status_request>::with<std::vector<job_status_row>>,
    caf::replies_to<client_events_post>::with<done_atom>,
    caf::replies_to<details_atom>::with<cluster_details>,
    caf::replies_to<service_details_request>::with<service_details>,
    caf::replies_to<settings_atom>::with<cluster_settings>,
    /// Changes the settings (cloudEnabled is ignored).
    caf::replies_to<cluster_settings>::with<done_atom>,
    caf::replies_to<activity_query>::with<std::vector<event_record>>,
    caf::replies_to<metrics_query>::with<function_metrics>,
    caf::replies_to<fetch_job_atom, std::string>::with<job_detail>,
    /// POST /resources: answered once the batch committed (resources_actor.hpp).
    caf::replies_to<resource_inform_request>::with<std::vector<inform_result>>,
    caf::replies_to<resource_query>::with<resource_page>,
    /// GET /resources/events: a long-poll with a cursor (resource_events.hpp).
    caf::replies_to<resource_events_request>::with<resource_events_page>,
    caf::replies_to<resource_counts_query>::with<std::vector<resource_count>>,
    caf::replies_to<resource_kind_request>::with<resource_kind_record>,
    caf::replies_to<resource_namespace_request>::with<resource_namespace_record>,
    caf::replies_to<resource_command>::with<resource_command_result>,
    /// The resource_host part, used by the cluster's resources actor.
    caf::replies_to<resource_write>::with<done_atom>,
    caf::replies_to<replace_args_atom, std::vector<std::string>,
                    std::vector<std::string>>::with<std::vector<std::string>>,
    /// Periodic housekeeping: expire results and detect silent machines.
    caf::reacts_to<sweep_atom, std::uint64_t>,
    caf::reacts_to<waiter_expired_atom, std::uint64_t>,
    /// A native worker's connection ended: its machine is inactive now (its attempts
    /// stall, its parked polls are dropped), not when it is found silent.
    caf::reacts_to<machine_inactive_atom, std::string>,
    /// A native worker's connection is alive (its heartbeat): its machine is seen now,
    /// also while it runs jobs with no request for more parked.
    caf::reacts_to<machine_alive_atom, std::string>,
    /// Answers every parked poll and waiter now (shutdown).
    caf::reacts_to<release_atom>,
    /// From now on refuses the requests of clients as `moved` (the cluster is handed to
    /// another node); what is in flight still completes.
    caf::reacts_to<quiesce_atom>,
    /// Quits once the messages before this one are handled (the end of a hand-off).
    caf::reacts_to<stop_atom>>;

} // namespace diffplane

#include "actors/domain_options.hpp"
#include "actors/pool_actor.hpp"

namespace diffplane {

/// Who a cluster talks to and what it is.
struct cluster_context {
  cluster_record cluster;
  /// Writes and the recovery load (one connection, so the load sees every write).
  persistence_actor writer;
  /// Reads that need not wait behind writes.
  persistence_actor reader;
  cluster_parent parent;
  domain_options options;
  /// Long-polls parked in this process, shared by every cluster.
  parked_counter parked;
  /// The lease was released by its last holder after every write committed (a hand-off
  /// or an orderly stop): the attempts found running still run on their workers and are
  /// adopted, instead of counted as stalled as after a crash.
  bool adopt_running_attempts = false;
};

/// Spawns a cluster actor; it loads its state from Postgres, then tells its parent
/// `cluster_ready`. It is monitored by `parent_actor` (the node supervisor).
cluster_actor spawn_cluster(caf::local_actor* parent_actor, cluster_context context);

} // namespace diffplane
