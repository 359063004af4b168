#pragma once

#include "persistence/membership_records.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

// All SQL of the nodes, cluster_leases and lease_history tables. Every time compared is
// the database's now(), so the nodes' clocks need not agree.
namespace diffplane::persistence::sql {

/// A node of the same host that still looks live: its id and process id.
struct node_process {
  std::string id;
  std::int32_t pid = 0;
};

/// The nodes of `hostname` whose heartbeat is younger than `ttl` and that did not leave.
std::vector<node_process> live_nodes_on_host(pqxx::transaction_base& txn,
                                             const std::string& hostname,
                                             std::chrono::milliseconds ttl);

/// Marks the nodes `ids` as gone and ends their leases now, so that their clusters can be
/// acquired at once rather than after the TTL. `released`: the nodes committed every
/// write first (an orderly stop), so their running attempts can be adopted.
void retire_nodes(pqxx::transaction_base& txn, const std::vector<std::string>& ids,
                  bool released = false);

/// Registers `node` (or registers it again after it left or went silent); false when a
/// live node already has its id.
bool insert_node(pqxx::transaction_base& txn, const node_identity& node,
                 std::chrono::milliseconds ttl);

void heartbeat(pqxx::transaction_base& txn, const std::string& node_id);

/// Replaces the node's registered HTTP address (the configured one, registered before
/// the port is bound) with the address it listens on.
void set_http_address(pqxx::transaction_base& txn, const std::string& node_id,
                      const std::string& http_address);

/// The id of a live node other than `node_id` whose CAF node id is `caf_node`; empty if
/// none.
std::string live_node_with_caf_node(pqxx::transaction_base& txn,
                                    const std::string& node_id,
                                    const std::string& caf_node,
                                    std::chrono::milliseconds ttl);

/// The mesh secret, stored as `candidate` if no node stored one before.
std::string mesh_secret(pqxx::transaction_base& txn, const std::string& candidate);

/// Extends the leases `held` by `ttl` where the node still holds them at that epoch;
/// answers the clusters whose lease it extended.
std::vector<std::string> renew_leases(pqxx::transaction_base& txn,
                                      const std::string& node_id,
                                      const std::vector<held_lease>& held,
                                      std::chrono::milliseconds ttl);

std::vector<node_row> live_nodes(pqxx::transaction_base& txn,
                                 std::chrono::milliseconds ttl);

std::vector<lease_row> leases(pqxx::transaction_base& txn);

/// Takes the lease of `cluster_id` for the node when it has expired (or never was
/// held) or the node holds it already, with the next epoch; answers that epoch (0 when
/// another node holds it), and whether the previous holder released it (see
/// lease_grant).
lease_grant acquire_lease(pqxx::transaction_base& txn, const std::string& node_id,
                          const std::string& cluster_id, std::chrono::milliseconds ttl);

/// Ends the lease now, as released, if the node still holds it at that epoch.
void release_lease(pqxx::transaction_base& txn, const std::string& node_id,
                   const held_lease& lease);

/// Marks the node as gone and ends every lease it holds now, as released (it committed
/// every write before).
void leave(pqxx::transaction_base& txn, const std::string& node_id);

/// The fence check that a write statement carries itself, for one round trip instead of
/// a transaction's four (BEGIN, fenced_clusters, the write, COMMIT): `cte` is a WITH
/// item named `held` that locks, as fenced_clusters does, the rows of the gate's leases
/// the node holds at their epochs, and `open` a condition true only when it found every
/// one. They take the parameters $first ... $first + 2, appended by
/// add_lease_gate_parameters.
struct lease_gate_sql {
  std::string cte;
  std::string open;
};
lease_gate_sql lease_gate_check(int first);
void add_lease_gate_parameters(std::vector<std::string>& params, const lease_gate& gate);

/// Locks (FOR KEY SHARE) the lease rows that the node holds at the given epochs, so that
/// no acquisition can commit before the transaction does (while the node's own renewal
/// can); answers the clusters of `fences` whose lease the node no longer holds at that
/// epoch.
std::vector<std::string> fenced_clusters(pqxx::transaction_base& txn,
                                         const std::string& node_id,
                                         const std::vector<held_lease>& fences);

/// Gives each new cluster its lease row, held by nobody yet.
void insert_leases(pqxx::transaction_base& txn,
                   const std::vector<const cluster_record*>& clusters);

} // namespace diffplane::persistence::sql
