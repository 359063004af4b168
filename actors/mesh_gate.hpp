#pragma once

#include "actors/cluster_actor.hpp"
#include "actors/forward_batch.hpp"

#include <string>

namespace diffplane {

using forward_atom = caf::atom_constant<caf::atom("forward")>;

/// The one actor a node publishes on its CAF port: peers send it the requests of the
/// clusters this node serves, each with the mesh secret (kept in Postgres, so only
/// processes with database access know it) and the cluster's id. A request without the
/// secret, or for a cluster not served here, is refused. Answers come from the gate
/// itself, so no cluster actor's handle ever crosses the network.
using mesh_gate_actor = caf::typed_actor<
    /// The hot requests, batched (forward_batch.hpp): each is answered in a
    /// forward_answers message to the sender, not as a response.
    caf::reacts_to<forward_batch>,
    /// Sends the answers gathered in this turn of the mailbox (sent by the gate to
    /// itself; from anyone else it only sends them sooner).
    caf::reacts_to<forward_flush_atom>,
    caf::replies_to<forward_atom, std::string, std::string,
                    create_job_request>::with<std::string>,
    caf::replies_to<forward_atom, std::string, std::string,
                    jobs_request>::with<std::vector<dispatched_job>>,
    caf::replies_to<forward_atom, std::string, std::string, job_result_post>::with<bool>,
    caf::replies_to<forward_atom, std::string, std::string,
                    status_request>::with<std::vector<job_status_row>>,
    caf::replies_to<forward_atom, std::string, std::string,
                    client_events_post>::with<done_atom>,
    caf::replies_to<forward_atom, std::string, std::string,
                    details_atom>::with<cluster_details>,
    caf::replies_to<forward_atom, std::string, std::string,
                    service_details_request>::with<service_details>,
    caf::replies_to<forward_atom, std::string, std::string,
                    settings_atom>::with<cluster_settings>,
    caf::replies_to<forward_atom, std::string, std::string,
                    cluster_settings>::with<done_atom>,
    caf::replies_to<forward_atom, std::string, std::string,
                    activity_query>::with<std::vector<event_record>>,
    caf::replies_to<forward_atom, std::string, std::string,
                    metrics_query>::with<function_metrics>,
    caf::replies_to<forward_atom, std::string, std::string, fetch_job_atom,
                    std::string>::with<job_detail>,
    caf::replies_to<forward_atom, std::string, std::string,
                    resource_inform_request>::with<std::vector<inform_result>>,
    caf::replies_to<forward_atom, std::string, std::string,
                    resource_query>::with<resource_page>,
    caf::replies_to<forward_atom, std::string, std::string,
                    resource_events_request>::with<resource_events_page>,
    caf::replies_to<forward_atom, std::string, std::string,
                    resource_counts_query>::with<std::vector<resource_count>>,
    caf::replies_to<forward_atom, std::string, std::string,
                    resource_kind_request>::with<resource_kind_record>,
    caf::replies_to<forward_atom, std::string, std::string,
                    resource_namespace_request>::with<resource_namespace_record>,
    caf::replies_to<forward_atom, std::string, std::string,
                    resource_command>::with<resource_command_result>,
    /// A native worker's connection to another node ended, or is alive.
    caf::reacts_to<forward_atom, std::string, std::string, machine_inactive_atom,
                   std::string>,
    caf::reacts_to<forward_atom, std::string, std::string, machine_alive_atom,
                   std::string>>;

} // namespace diffplane
