#pragma once

#include "actors/atoms.hpp"
#include "actors/messages.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

namespace diffplane {

/// What pools and jobs tell their cluster: the part of the cluster's interface they see.
/// The jobs one poll dispatched come as one vector of changes. `posted_result_atom`
/// carries a durable job's result while its write is in flight, for the waiters that
/// take a result as posted; `job_finished` follows the commit.
using cluster_notifications = caf::typed_actor<
    caf::reacts_to<job_status_changed>, caf::reacts_to<std::vector<job_status_changed>>,
    caf::reacts_to<job_finished>, caf::reacts_to<posted_result_atom, job_status_row>>;

/// What a cluster tells the node supervisor once it has loaded its state.
using cluster_parent = caf::typed_actor<caf::reacts_to<cluster_ready_atom, std::string>>;

} // namespace diffplane
