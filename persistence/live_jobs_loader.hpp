#pragma once

#include "persistence/records.hpp"

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <string>

namespace diffplane {

using prefetch_atom = caf::atom_constant<caf::atom("prefetch")>;

/// Reads the live jobs of one cluster's load, a page at a time, from one snapshot.
using live_jobs_loader =
    caf::typed_actor<caf::replies_to<live_jobs_page_request>::with<live_jobs_page>,
                     /// Reads the next page ahead (sent by the actor to itself).
                     caf::reacts_to<prefetch_atom>>;

/// What a loader reads and how.
struct live_jobs_load {
  std::string database_url;
  std::string cluster_id;
  /// Only jobs created before this are read (cluster_snapshot::load_before).
  timestamp_ms load_before = 0;
  /// The cluster actor: the loader ends when it is down.
  caf::actor cluster;
  /// The statement_timeout of the connection's session, and the one its reads run under.
  std::chrono::milliseconds session_statement_timeout{0};
  std::chrono::milliseconds statement_timeout{0};
  /// How long past its statement timeout a read may go before the connection is cut.
  std::chrono::milliseconds watchdog_grace{2000};
};

/// Opens a connection of its own, begins a REPEATABLE READ transaction and declares the
/// cursors over the cluster's live jobs there, which fixes the snapshot they read (throws
/// what libpqxx throws); then spawns a detached actor that answers pages from it, oldest
/// first, reading the next pages while the cluster admits the last one. The actor ends
/// after the last page, after a failed read (answered as `unavailable`), or when the
/// cluster is down. The writer calls this at the cluster's first page (persistence_actor
/// .cpp, start_load says why no job is then lost or read twice).
live_jobs_loader spawn_live_jobs_loader(caf::actor_system& system, live_jobs_load load);

} // namespace diffplane
