#pragma once

#include "actors/node_actor.hpp"
#include "gateway/actor_bridge.hpp"

#include <memory>

namespace diffplane::gateway {

/// The bridge to `node`'s actors, served by `bridge_actors` long-lived actors.
std::unique_ptr<actor_bridge>
make_actor_bridge(caf::actor_system& system, node_actor node, std::size_t bridge_actors);

} // namespace diffplane::gateway
