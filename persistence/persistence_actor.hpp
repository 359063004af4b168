#pragma once

#include "persistence/records.hpp"
#include "persistence/resource_records.hpp"

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace diffplane {

using done_atom = caf::atom_constant<caf::atom("done")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using held_due_atom = caf::atom_constant<caf::atom("helddue")>;
using load_clusters_atom = caf::atom_constant<caf::atom("loadclstrs")>;
using load_cluster_atom = caf::atom_constant<caf::atom("loadclstr")>;
using fetch_statuses_atom = caf::atom_constant<caf::atom("fetchstat")>;
using latest_jobs_atom = caf::atom_constant<caf::atom("latestjobs")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using fetch_job_atom = caf::atom_constant<caf::atom("fetchjob")>;
using prune_atom = caf::atom_constant<caf::atom("prune")>;
using lease_epoch_atom = caf::atom_constant<caf::atom("leaseepoch")>;
using fenced_atom = caf::atom_constant<caf::atom("fenced")>;
using load_resources_atom = caf::atom_constant<caf::atom("loadres")>;

/// The only actor that talks SQL. Writes are group-committed: every write a caller sends
/// is answered only after the transaction holding it committed. Loads run on the same
/// connection after the pending writes, so they see every write sent before them.
using persistence_actor = caf::typed_actor<
    caf::replies_to<cluster_record>::with<done_atom>,
    caf::replies_to<cluster_settings_write>::with<done_atom>,
    /// Inserts a job unless its id exists; answers whether it was new.
    caf::replies_to<job_record>::with<bool>,
    caf::replies_to<job_state_write>::with<done_atom>,
    caf::replies_to<live_jobs_move>::with<done_atom>,
    caf::replies_to<machine_record>::with<done_atom>,
    caf::replies_to<service_record>::with<done_atom>,
    caf::replies_to<std::vector<event_record>>::with<done_atom>,
    caf::replies_to<std::vector<client_event_record>>::with<done_atom>,
    /// Resource rows with the work jobs they create or coalesce into, in one commit.
    caf::replies_to<resource_write>::with<done_atom>,
    /// Every resource of a cluster with the state of its work job.
    caf::replies_to<load_resources_atom, std::string>::with<resources_snapshot>,
    caf::replies_to<resource_query>::with<resource_page>,
    caf::replies_to<resource_counts_query>::with<std::vector<resource_count>>,
    /// Stored events of a cluster between `after` and `up_to` (resource_events.hpp).
    caf::replies_to<resource_events_request>::with<std::vector<resource_event_record>>,
    caf::replies_to<load_clusters_atom>::with<std::vector<cluster_record>>,
    /// Services, machines and the cache entries resulted after the timestamp; the live
    /// jobs follow in pages.
    caf::replies_to<load_cluster_atom, std::string, timestamp_ms>::with<cluster_snapshot>,
    /// A page of a cluster's live jobs, each read in its own transaction after the
    /// writes sent before it: the writes of a cluster serving while it loads wait for
    /// one page, not for the whole load.
    caf::replies_to<live_jobs_page_request>::with<live_jobs_page>,
    caf::replies_to<fetch_statuses_atom, std::string,
                    std::vector<std::string>>::with<std::vector<job_status_row>>,
    /// The newest jobs of a cluster (or of one service when the name is not empty).
    caf::replies_to<latest_jobs_atom, std::string, std::string,
                    std::int32_t>::with<std::vector<job_summary>>,
    /// The job of a cluster with that id: none or one.
    caf::replies_to<fetch_job_atom, std::string,
                    std::string>::with<std::vector<job_record>>,
    caf::replies_to<activity_query>::with<std::vector<event_record>>,
    /// None or one resolution.
    caf::replies_to<cached_resolution_query>::with<std::vector<cache_entry_record>>,
    caf::replies_to<metrics_query>::with<function_metrics>,
    /// Deletes activity and client events older than the first number of hours given,
    /// and machines silent longer than the second number of hours (0: neither); answers
    /// how many rows went.
    caf::replies_to<prune_atom, std::int32_t, std::int32_t>::with<std::int64_t>,
    /// Answers once the database answered a trivial query.
    caf::replies_to<ping_atom>::with<done_atom>,
    /// The epoch of the lease under which this node writes a cluster from now on; 0:
    /// the node no longer holds it. With fencing on (persistence_options::node_id),
    /// every write of a cluster commits only while the node still holds the lease at
    /// the epoch that was current when the write arrived; the other writes fail, and the
    /// sender of this message is told `(fenced_atom, cluster, epoch)`.
    caf::reacts_to<lease_epoch_atom, std::string, std::int64_t>,
    /// Commits what has been gathered so far (sent by the actor to itself).
    caf::reacts_to<flush_atom>,
    /// Writes the held dispatches that fell due (the actor's one timer, sent to itself).
    caf::reacts_to<held_due_atom>>;

struct persistence_options {
  /// libpq connection string or URL.
  std::string database_url;
  /// Most writes in one transaction.
  std::size_t max_batch_items = 512;
  /// How long the write of a dispatch (a job becoming running) may wait to be superseded
  /// by the job's next state, which then goes alone: fast jobs cost one update less.
  std::chrono::milliseconds dispatch_write_delay{1000};
  /// Name in logs ("writer", "reader").
  std::string name = "persistence";
  /// The node whose leases fence this actor's writes; empty: no fencing (tools and
  /// tests that write without leases).
  std::string node_id;
  /// The statement_timeout `database_url` gives this actor's session (0: none). A batch
  /// or read that runs into it fails whole as `unavailable`: the database is too slow,
  /// so replaying its writes one by one would only wait longer.
  std::chrono::milliseconds statement_timeout{0};
  /// The statement_timeout of reads, set for each read transaction when it differs from
  /// the session's (the writer's loads may take longer than its writes).
  std::chrono::milliseconds read_statement_timeout{0};
  /// How long past its statement timeout a call may go unanswered before the watchdog
  /// cuts the connection (a frozen Postgres cancels nothing); the timeout's commits are
  /// then in doubt and resolved as after a lost connection. Unused without timeouts.
  std::chrono::milliseconds watchdog_grace{2000};
  /// Loads of live jobs read at once (live_jobs_loader.hpp). Each holds a connection
  /// and two pages of its own, so a node taking over many clusters must not open them
  /// all at once; a cluster whose load waits for its turn serves meanwhile.
  std::size_t max_concurrent_loads = 4;
  /// Whether the session plans for group commit (write_plans.hpp), its reads getting the
  /// usual planner back each; off for an actor that only reads (the node's reader),
  /// whose statements are planned for their own parameters.
  bool plans_for_writes = true;
};

/// Spawns a persistence actor on a thread of its own (libpqxx blocks).
persistence_actor spawn_persistence(caf::actor_system& system,
                                    persistence_options options);

} // namespace diffplane
