#pragma once

#include "persistence/persistence_actor.hpp"

#include <caf/atom.hpp>

// Atoms of the domain actors (the persistence atoms live beside its interface).
namespace diffplane {

using enqueue_atom = caf::atom_constant<caf::atom("enqueue")>;
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;
using dispatch_atom = caf::atom_constant<caf::atom("dispatch")>;
using poll_expired_atom = caf::atom_constant<caf::atom("pollexp")>;
using requeue_atom = caf::atom_constant<caf::atom("requeue")>;
using withdraw_atom = caf::atom_constant<caf::atom("withdraw")>;
using job_done_atom = caf::atom_constant<caf::atom("jobdone")>;
using machine_inactive_atom = caf::atom_constant<caf::atom("machinact")>;
using machine_alive_atom = caf::atom_constant<caf::atom("machalive")>;
using job_timeout_atom = caf::atom_constant<caf::atom("jobtimeout")>;
using check_timeouts_atom = caf::atom_constant<caf::atom("timeouts")>;
using stall_atom = caf::atom_constant<caf::atom("stall")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using retire_atom = caf::atom_constant<caf::atom("retire")>;
using waiter_expired_atom = caf::atom_constant<caf::atom("waitexp")>;
/// A result as posted, before its write commits (job_actor.hpp, cluster_actor.hpp).
using posted_result_atom = caf::atom_constant<caf::atom("postedres")>;
using details_atom = caf::atom_constant<caf::atom("details")>;
using authenticate_atom = caf::atom_constant<caf::atom("auth")>;
using create_cluster_atom = caf::atom_constant<caf::atom("newcluster")>;
using list_clusters_atom = caf::atom_constant<caf::atom("clusters")>;
using cluster_ready_atom = caf::atom_constant<caf::atom("ready")>;
using await_ready_atom = caf::atom_constant<caf::atom("awaitready")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using settings_atom = caf::atom_constant<caf::atom("settings")>;
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
using persist_atom = caf::atom_constant<caf::atom("persist")>;
using live_atom = caf::atom_constant<caf::atom("live")>;
using nodes_atom = caf::atom_constant<caf::atom("nodes")>;
using round_atom = caf::atom_constant<caf::atom("round")>;
using lease_check_atom = caf::atom_constant<caf::atom("leasecheck")>;
using route_atom = caf::atom_constant<caf::atom("route")>;
using quiesce_atom = caf::atom_constant<caf::atom("quiesce")>;
using local_cluster_atom = caf::atom_constant<caf::atom("localclstr")>;

} // namespace diffplane
