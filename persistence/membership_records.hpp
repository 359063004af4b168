#pragma once

#include "persistence/records.hpp"

#include <cstdint>
#include <string>
#include <vector>

// Rows of the nodes and cluster_leases tables, as the node supervisor sees them. Plain
// structs like records.hpp, registered as messages in actors/message_types.cpp.
namespace diffplane {

/// Who a node is, as it registers itself.
struct node_identity {
  std::string id;
  /// Where its HTTP gateway listens (informational: the load balancer's business).
  std::string http_address;
  /// Where other nodes reach its node actor; empty host or port 0: not published.
  std::string caf_host;
  std::uint16_t caf_port = 0;
  std::string hostname;
  std::int32_t pid = 0;
  /// CAF's id of the node's actor system (to_string of caf::node_id).
  std::string caf_node;
};

/// A node of the nodes table that is live (heartbeat younger than the lease TTL).
struct node_row {
  std::string id;
  std::string http_address;
  std::string caf_host;
  std::int32_t caf_port = 0;
  timestamp_ms started_at = 0;
  timestamp_ms heartbeat_at = 0;

  bool operator==(const node_row&) const = default;
};

/// One cluster's lease as the database has it.
struct lease_row {
  std::string cluster_id;
  /// Empty: never acquired.
  std::string node_id;
  std::int64_t epoch = 0;
  /// Whether expires_at is past by the database's clock: anyone may acquire it.
  bool expired = true;
  timestamp_ms expires_at = 0;

  bool operator==(const lease_row&) const = default;
};

/// A lease this node holds: the cluster and the epoch it acquired.
struct held_lease {
  std::string cluster_id;
  std::int64_t epoch = 0;

  bool operator==(const held_lease&) const = default;
};

/// The leases a write is fenced under: it lands only while `node_id` holds each of them
/// at its epoch.
struct lease_gate {
  std::string node_id;
  std::vector<held_lease> leases;
};

/// An acquisition: the epoch (0: another node holds the lease), and whether the previous
/// holder released the lease after committing every write (a hand-off or an orderly
/// stop) rather than letting it run out. Only then are the attempts it left running
/// still running on their workers.
struct lease_grant {
  std::int64_t epoch = 0;
  bool released = false;

  bool operator==(const lease_grant&) const = default;
};

/// What one membership round found: the live nodes, every lease, and which of the
/// leases the node asked to renew were renewed.
struct membership_view {
  std::vector<node_row> nodes;
  std::vector<lease_row> leases;
  std::vector<std::string> renewed;

  bool operator==(const membership_view&) const = default;
};

template <class Inspector> auto inspect(Inspector& f, node_identity& x) {
  return f(x.id, x.http_address, x.caf_host, x.caf_port, x.hostname, x.pid, x.caf_node);
}

template <class Inspector> auto inspect(Inspector& f, node_row& x) {
  return f(x.id, x.http_address, x.caf_host, x.caf_port, x.started_at, x.heartbeat_at);
}

template <class Inspector> auto inspect(Inspector& f, lease_row& x) {
  return f(x.cluster_id, x.node_id, x.epoch, x.expired, x.expires_at);
}

template <class Inspector> auto inspect(Inspector& f, held_lease& x) {
  return f(x.cluster_id, x.epoch);
}

template <class Inspector> auto inspect(Inspector& f, lease_grant& x) {
  return f(x.epoch, x.released);
}

template <class Inspector> auto inspect(Inspector& f, membership_view& x) {
  return f(x.nodes, x.leases, x.renewed);
}

} // namespace diffplane
