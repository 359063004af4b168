#pragma once

#include "actors/mesh_gate.hpp"
#include "actors/node_actor.hpp"

#include <string>

// The links between the nodes of one control plane: each node publishes a gate on its
// CAF port, and serves the clusters it does not own through forwarders that send their
// requests to the owner's gate.
namespace diffplane {

/// Spawns the gate of `node`: it serves the requests that peers forward, for the
/// clusters the node serves, to callers that know `mesh_secret`.
mesh_gate_actor spawn_mesh_gate(caf::actor_system& system, node_actor node,
                                std::string mesh_secret);

/// Spawns a local stand-in for cluster `cluster_id`, which another node may serve: each
/// request goes to wherever the node says the cluster is served now (a local actor, or
/// a peer's gate), and is tried again, within its time budget, when that place is gone
/// or refuses it as not served there. A create without an execution id gets one here,
/// so that a create tried twice never makes two jobs. While the owner does not answer
/// (alive to the database but cut off from this node), a request ends with a retryable
/// error after two `lease_ttl` and one try more, rather than after the whole budget.
cluster_actor spawn_cluster_forwarder(caf::local_actor* parent, node_actor node,
                                      std::string cluster_id, std::string mesh_secret,
                                      caf::timespan lease_ttl);

} // namespace diffplane
