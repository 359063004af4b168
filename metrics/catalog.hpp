#pragma once

#include "metrics/registry.hpp"

// Every metric diffplane exports, in one place (docs/operations.md lists them).
namespace diffplane::metrics {

struct job_metrics {
  counter& created;
  /// diffplane_jobs_created_ephemeral_total: of `created`, the ephemeral ones (never
  /// written to Postgres).
  counter& created_ephemeral;
  counter& dispatched;
  counter& stalled;
  counter& results_not_persisted;
  /// diffplane_jobs_results_not_recorded_total: of `results_not_persisted`, those whose
  /// activity row was not written, over their cluster's budget (actors/refusal_rows.hpp).
  counter& results_not_recorded;
  counter& succeeded_resolution;
  counter& succeeded_rejection;
  counter& failed;
  /// diffplane_jobs_actor_failures_total: job actors that ended with an uncaught
  /// exception; each one's attempt stalled (job_actor.cpp).
  counter& actor_failures;
  gauge& pending;
  gauge& running;
  /// diffplane_live_bytes: payload bytes (job arguments and results) the clusters hold in
  /// memory, counted against --max-live-bytes-per-cluster; updated at each sweep.
  gauge& live_bytes;
};

struct persistence_metrics {
  counter& batches;
  counter& writes;
  counter& failed_batches;
  counter& replay_transactions;
  counter& refused_writes;
  counter& cut_calls;
  histogram& batch_writes;
  histogram& commit_seconds;
};

/// diffplane_lease_* : this node's cluster leases (docs/operations.md, "Many nodes").
struct lease_metrics {
  /// diffplane_leases_held: clusters whose lease this node holds now.
  gauge& held;
  /// diffplane_lease_acquisitions_total: leases this node acquired.
  counter& acquisitions;
  /// diffplane_lease_hand_offs_total: clusters this node handed to their preferred
  /// owner (a node joined, or this one stopped).
  counter& hand_offs;
  /// diffplane_leases_lost_total: leases this node lost without handing them off: not
  /// renewed in time, or taken by another node.
  counter& lost;
  /// diffplane_lease_fenced_writes_total: writes the database refused because this
  /// node no longer held the cluster's lease at the write's epoch.
  counter& fenced_writes;
};

lease_metrics& leases();

/// diffplane_forwarded_* : requests this node's gateway sent to the node serving their
/// cluster.
struct forwarding_metrics {
  /// diffplane_forwarded_requests_total: forwarded requests answered by the owner.
  counter& forwarded;
  /// diffplane_forward_batches_total: messages that carried forwarded creates, polls,
  /// results and status waits to their owner (several requests each under load).
  counter& batches;
  /// diffplane_forward_retries_total: tries repeated because the owner was gone, did not
  /// serve the cluster any more, or did not answer.
  counter& retries;
  /// diffplane_forwarded_request_seconds: time from sending a request to a peer to its
  /// answer.
  histogram& seconds;
};

forwarding_metrics& forwarding();

/// One HTTP listener's connections (label listener="gateway" or "metrics").
struct connection_metrics {
  /// diffplane_http_connections_open: connections open now, refused ones included
  /// while their refusal is written.
  gauge& open;
  /// diffplane_http_connections_refused_total{limit="per_address"}: answered 429
  /// because their client address held --max-connections-per-address.
  counter& refused_per_address;
  /// diffplane_http_connections_refused_total{limit="total"}: closed at once because
  /// the listener held --max-connections.
  counter& refused_total;
  /// diffplane_http_accept_failures_total: accepts that failed (e.g. out of file
  /// descriptors), each followed by a pause.
  counter& accept_failures;
};

/// The metrics of the listener named `listener`, registered on first use.
connection_metrics make_connection_metrics(const std::string& listener);

/// diffplane_tls_handshakes_failed_total: connections closed because their TLS
/// handshake failed or timed out.
counter& tls_handshakes_failed();

/// diffplane_native_slow_consumers_total: native connections closed because the frames
/// queued for them, unread, passed their bound.
counter& native_slow_consumers();

/// diffplane_jobs_* : transitions since start, and the jobs pending and running now.
job_metrics& jobs();

/// diffplane_persistence_* : group commits, their sizes and commit latencies.
persistence_metrics& persistence();

/// diffplane_http_requests_total{route,method,code} and
/// diffplane_http_request_duration_seconds{route,method}.
struct route_metrics {
  counter* by_class[5]; // 1xx..5xx
  histogram* latency;

  void record(unsigned status, double seconds) const;
};
route_metrics make_route_metrics(const std::string& route, const std::string& method);

} // namespace diffplane::metrics
