#pragma once

#include "persistence/persistence_actor.hpp"

namespace diffplane {

/// Spawns the node's writer: a persistence actor whose jobs' final states commit on a
/// second connection (its result lane, a linked persistence actor of its own), so that
/// the insert of a new job does not wait behind the commit of an earlier job's result.
///
/// Every write is still answered after its own commit. The writer sends a final state
/// to the lane only when its own batch is empty (every write sent to it before, the
/// job's insert among them, has committed; no live_jobs move is open) and its mailbox
/// too: a busy writer keeps final states in its batches, one commit for all, as extra
/// commits would cost more than they save. It tells the lane every lease epoch (the
/// lane fences alike and tells the same node); before a read (a ping included, which
/// the node drains the writer with before a lease goes) and before a cluster's
/// live_jobs move it waits for the lane to answer what it sent there. State writes land
/// only over an older revision (sql_jobs.cpp), so a held dispatch written after its
/// job's final state would change nothing; the writer answers it unwritten anyway.
persistence_actor spawn_writer(caf::actor_system& system, persistence_options options);

} // namespace diffplane
