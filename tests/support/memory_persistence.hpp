#pragma once

#include "memory_leases.hpp"
#include "persistence/persistence_actor.hpp"

#include <caf/typed_response_promise.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace diffplane::testing {

/// What the in-memory persistence actor holds; tests read and seed it directly (the
/// deterministic test scheduler runs everything on the test's thread).
struct memory_store {
  std::map<std::string, cluster_record> clusters;
  /// Keyed by "cluster/id".
  std::map<std::string, job_record> jobs;
  std::vector<job_state_write> state_writes;
  /// Each cluster's last live_jobs_move (its live jobs are found by status here).
  std::map<std::string, timestamp_ms> live_jobs_before;
  std::map<std::string, machine_record> machines;
  std::map<std::string, service_record> services;
  std::vector<event_record> events;
  std::vector<client_event_record> client_events;
  /// Keyed by "cluster/kind/id".
  std::map<std::string, resource_record> resources;
  /// Keyed by "cluster/kind".
  std::map<std::string, resource_kind_record> resource_kinds;
  /// Keyed by "cluster/name".
  std::map<std::string, resource_namespace_record> resource_namespaces;
  /// The committed resource events, in commit order.
  std::vector<resource_event_record> resource_events;
  /// Reads of stored resource events received.
  std::size_t resource_event_reads = 0;
  /// Resource writes received (committed or failed).
  std::size_t resource_writes = 0;
  /// When set, every write is answered with an "unavailable" error.
  bool failing = false;
  /// When set, reads of one job (fetch_job) are answered "unavailable".
  bool failing_reads = false;
  /// When set, job state writes wait in `held_writes`, unanswered, until the actor gets
  /// a flush: a commit in flight, for as long as the test needs.
  bool hold_state_writes = false;
  struct held_write {
    job_state_write write;
    caf::typed_response_promise<done_atom> reply;
  };
  std::vector<held_write> held_writes;
  /// When set, job inserts wait in `held_inserts` like held state writes: a database
  /// that does not answer.
  bool hold_job_inserts = false;
  struct held_insert {
    job_record row;
    caf::typed_response_promise<bool> reply;
  };
  std::vector<held_insert> held_inserts;
  /// When set, resource writes wait in `held_resource_writes` like held state writes:
  /// a step's commit in flight.
  bool hold_resource_writes = false;
  struct held_resource_write {
    resource_write write;
    caf::typed_response_promise<done_atom> reply;
  };
  std::vector<held_resource_write> held_resource_writes;
  /// Job inserts received, held ones included.
  std::size_t job_inserts = 0;
  /// When set, pages of live jobs wait in `held_pages` like held state writes, so that a
  /// test acts while a cluster loads; a flush answers them (as they stand then).
  bool hold_live_job_pages = false;
  struct held_page {
    live_jobs_page_request request;
    caf::typed_response_promise<live_jobs_page> reply;
  };
  std::vector<held_page> held_pages;
  /// Pages of live jobs asked for, held ones included.
  std::size_t live_job_pages = 0;
  /// The live jobs each cluster's load has still to bring: a copy taken when the
  /// cluster was loaded (load_cluster_atom), as the real loader reads one snapshot.
  struct live_jobs_load {
    std::vector<job_record> jobs;
    std::size_t next = 0;
    std::size_t pages = 0;
  };
  std::map<std::string, live_jobs_load> loads;
  /// When set, the next page of live jobs is answered "unavailable" (then cleared).
  bool fail_next_page = false;
  /// What a flush does with the held writes: commit them, or fail them "unavailable".
  bool commit_held = true;
  /// With a lease table, job writes are fenced like the real writer's: a write of a
  /// cluster whose lease epoch in the table is not the one the node last told the
  /// persistence actor fails, and the teller gets (fenced_atom, cluster, epoch).
  std::shared_ptr<memory_leases> fence_table;
  std::size_t fenced_writes = 0;

  const job_record* job(const std::string& cluster_id, const std::string& id) const;
  const resource_record* resource(const std::string& cluster_id, const std::string& kind,
                                  const std::string& id) const;
};

/// A persistence actor over `store`, for unit tests of actor logic only: integration
/// tests run against a real Postgres.
persistence_actor spawn_memory_persistence(caf::actor_system& system,
                                           std::shared_ptr<memory_store> store);

} // namespace diffplane::testing
