#pragma once

#include "persistence/persistence_actor.hpp"

namespace diffplane {

/// Spawns the node's writer: a persistence actor whose jobs' final states commit on a
/// second connection (its result lane, a linked persistence actor of its own), so that
/// the insert of a new job does not wait behind the commit of an earlier job's result.
///
/// Every write is still answered after its own commit. The writer sends a final state
/// to the lane only once none of the job's writes waits in its open batch (its insert
/// committed) and no live_jobs move does; it tells the lane every lease epoch (the lane
/// fences alike and tells the same node); and before a read (a ping included, which the
/// node drains the writer with before a lease goes) and before a live_jobs move it waits
/// for the lane to answer what it sent there. State writes land only over an older
/// revision (sql_jobs.cpp), so a held dispatch written after its job's final state
/// changes nothing, though the writer answers it unwritten when the final state comes.
persistence_actor spawn_writer(caf::actor_system& system, persistence_options options);

} // namespace diffplane
