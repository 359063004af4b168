#pragma once

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "actors/parked_polls.hpp"
#include "actors/resource_lifecycle.hpp"
#include "actors/resource_namespaces.hpp"
#include "actors/wall_clock.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <functional>
#include <string>
#include <vector>

namespace diffplane {

using replace_args_atom = caf::atom_constant<caf::atom("replargs")>;
using retry_due_atom = caf::atom_constant<caf::atom("resretry")>;
using rework_atom = caf::atom_constant<caf::atom("rework")>;
using kick_atom = caf::atom_constant<caf::atom("reskick")>;
using timer_scan_atom = caf::atom_constant<caf::atom("resscan")>;
using events_due_atom = caf::atom_constant<caf::atom("resevdue")>;
using inform_due_atom = caf::atom_constant<caf::atom("informdue")>;
using informer_runs_atom = caf::atom_constant<caf::atom("infruns")>;

/// What the resources actor needs of its cluster: commits (the cluster stamps and admits
/// the work jobs) and coalescing into a queued job.
using resource_host = caf::typed_actor<
    /// Commits the write; its jobs are admitted to their pools once it is durable.
    caf::replies_to<resource_write>::with<done_atom>,
    /// Replaces the arguments of jobs still queued in their pools (job ids, and their
    /// arguments in the same order); answers the ids it did not replace (dispatched,
    /// finished, unknown). One message per step, not per job (replace_queued_args).
    caf::replies_to<replace_args_atom, std::vector<std::string>,
                    std::vector<std::string>>::with<std::vector<std::string>>>;

/// The resources of one cluster: informs, their work jobs and what the results make of
/// them. One step commits at a time: the informs that come while a step's commit is in
/// flight are planned on top of that step and sent once it committed (a group commit of
/// their own); each is answered after its own commit, and a failed commit sends them
/// back to be decided again on committed state.
using resources_actor = caf::typed_actor<
    caf::replies_to<resource_inform_request>::with<std::vector<inform_result>>,
    /// A kind's settings, changed first when asked (committed before the answer).
    caf::replies_to<resource_kind_request>::with<resource_kind_record>,
    /// A work job finished (its cluster forwards every job of service resources.*).
    caf::reacts_to<job_finished>,
    /// A work job was dispatched (running) or queued again.
    caf::reacts_to<job_status_changed>,
    /// A failed resource's backoff (key, due time) passed.
    caf::reacts_to<retry_due_atom, std::string, timestamp_ms>,
    /// A coalesced job's arguments could not be replaced (key, job): it runs the older
    /// object, so one more work must follow.
    caf::reacts_to<rework_atom, std::string, std::string>,
    /// Runs the queued operations (after a failed commit).
    caf::reacts_to<kick_atom>,
    /// A namespace's settings, changed first when asked (committed before the answer).
    caf::replies_to<resource_namespace_request>::with<resource_namespace_record>,
    /// Invalidates or removes one resource (committed before the answer).
    caf::replies_to<resource_command>::with<resource_command_result>,
    /// Expires and purges what namespaces' timers say is due (resource_namespaces.hpp).
    caf::reacts_to<timer_scan_atom>,
    /// GET /resources/events: the events after the cursor, or (none yet) parked until
    /// one commits or the ttl passes (resource_events.hpp).
    caf::replies_to<resource_events_request>::with<resource_events_page>,
    /// A parked events poll's ttl passed.
    caf::reacts_to<events_due_atom, std::uint64_t>,
    /// Answers every parked events poll now (shutdown, or the cluster moves away).
    caf::reacts_to<release_atom>,
    /// A kind's informer timer (kind, generation) fired (resource_informers.hpp).
    caf::reacts_to<inform_due_atom, std::string, std::uint64_t>,
    /// The informer runs the cluster's load found live (the jobs, after its restore):
    /// no informer runs before this message, so that a run an earlier owner started
    /// is waited for, not doubled.
    caf::reacts_to<informer_runs_atom, std::vector<job_record>>>;

struct resources_context {
  std::string cluster_id;
  resource_host host;
  /// Loads the resources at start (on the writer's connection, so the load sees every
  /// write sent before it).
  persistence_actor writer;
  /// Reads the events older than those in memory.
  persistence_actor reader;
  /// The cluster's count of parked long-polls (events polls count in it).
  parked_polls parked;
  resources::resource_options options;
  std::function<timestamp_ms()> wall_clock = wall_clock_ms;
};

/// Spawns the resources actor of a cluster, linked to `parent`; it loads the cluster's
/// resources before it takes any message.
resources_actor spawn_resources(caf::local_actor* parent, resources_context context);

} // namespace diffplane
