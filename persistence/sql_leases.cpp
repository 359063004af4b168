#include "persistence/sql_leases.hpp"

#include "persistence/prepared.hpp"
#include "persistence/sql_arrays.hpp"
#include "persistence/sql_values.hpp"

#include <pqxx/pqxx>

#include <unordered_set>

namespace diffplane::persistence::sql {

namespace {

std::string text_array(const std::vector<std::string>& values) {
  array_literal array;
  for (const auto& value : values)
    array.add_text(value);
  return array.take();
}

/// The leases `held` as two parallel arrays: cluster ids and epochs.
std::pair<std::string, std::string> lease_arrays(const std::vector<held_lease>& held) {
  array_literal clusters;
  array_literal epochs;
  for (const auto& lease : held) {
    clusters.add_text(lease.cluster_id);
    epochs.add_int(lease.epoch);
  }
  return {clusters.take(), epochs.take()};
}

long long ms(std::chrono::milliseconds d) {
  return static_cast<long long>(d.count());
}

} // namespace

std::vector<node_process> live_nodes_on_host(pqxx::transaction_base& txn,
                                             const std::string& hostname,
                                             std::chrono::milliseconds ttl) {
  auto rows = txn.exec_params(
      "SELECT id, pid FROM nodes WHERE hostname = $1 AND stopped_at IS NULL "
      "AND heartbeat_at > now() - $2 * interval '1 millisecond'",
      hostname, ms(ttl));
  std::vector<node_process> result;
  for (const auto& row : rows)
    result.push_back({row[0].as<std::string>(), row[1].as<std::int32_t>()});
  return result;
}

void retire_nodes(pqxx::transaction_base& txn, const std::vector<std::string>& ids,
                  bool released) {
  if (ids.empty())
    return;
  auto array = text_array(ids);
  txn.exec_params("UPDATE nodes SET stopped_at = now() WHERE id = ANY($1::text[])",
                  array);
  txn.exec_params("UPDATE lease_history h SET ended_at = now() FROM cluster_leases l "
                  "WHERE l.node_id = ANY($1::text[]) AND l.expires_at > now() "
                  "AND h.cluster_id = l.cluster_id AND h.epoch = l.epoch "
                  "AND h.ended_at IS NULL",
                  array);
  txn.exec_params("UPDATE cluster_leases SET expires_at = now(), released = $2 "
                  "WHERE node_id = ANY($1::text[]) AND expires_at > now()",
                  array, released);
}

bool insert_node(pqxx::transaction_base& txn, const node_identity& node,
                 std::chrono::milliseconds ttl) {
  auto rows = txn.exec_params(
      "INSERT INTO nodes (id, http_address, caf_host, caf_port, hostname, pid, caf_node, "
      "started_at, heartbeat_at, stopped_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $8, now(), now(), NULL) "
      "ON CONFLICT (id) DO UPDATE SET http_address = excluded.http_address, "
      "caf_host = excluded.caf_host, caf_port = excluded.caf_port, "
      "hostname = excluded.hostname, pid = excluded.pid, caf_node = excluded.caf_node, "
      "started_at = now(), heartbeat_at = now(), stopped_at = NULL "
      "WHERE nodes.stopped_at IS NOT NULL "
      "OR nodes.heartbeat_at <= now() - $7 * interval '1 millisecond' "
      "RETURNING id",
      node.id, node.http_address, node.caf_host, static_cast<int>(node.caf_port),
      node.hostname, node.pid, ms(ttl), node.caf_node);
  return !rows.empty();
}

void heartbeat(pqxx::transaction_base& txn, const std::string& node_id) {
  exec_prepared(txn, "diffplane_node_heartbeat",
                "UPDATE nodes SET heartbeat_at = now() WHERE id = $1", node_id);
}

void set_http_address(pqxx::transaction_base& txn, const std::string& node_id,
                      const std::string& http_address) {
  txn.exec_params("UPDATE nodes SET http_address = $2 WHERE id = $1", node_id,
                  http_address);
}

std::string live_node_with_caf_node(pqxx::transaction_base& txn,
                                    const std::string& node_id,
                                    const std::string& caf_node,
                                    std::chrono::milliseconds ttl) {
  if (caf_node.empty())
    return {};
  auto rows = txn.exec_params(
      "SELECT id FROM nodes WHERE caf_node = $1 AND id <> $2 AND stopped_at IS NULL "
      "AND heartbeat_at > now() - $3 * interval '1 millisecond'",
      caf_node, node_id, ms(ttl));
  return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
}

std::string mesh_secret(pqxx::transaction_base& txn, const std::string& candidate) {
  txn.exec_params("INSERT INTO mesh_secret (secret) VALUES ($1) ON CONFLICT DO NOTHING",
                  candidate);
  return txn.exec("SELECT secret FROM mesh_secret")[0][0].as<std::string>();
}

std::vector<std::string> renew_leases(pqxx::transaction_base& txn,
                                      const std::string& node_id,
                                      const std::vector<held_lease>& held,
                                      std::chrono::milliseconds ttl) {
  std::vector<std::string> renewed;
  if (held.empty())
    return renewed;
  auto [clusters, epochs] = lease_arrays(held);
  auto rows = exec_prepared(
      txn, "diffplane_renew_leases",
      // The rows are locked in cluster order, like the group commit's fence check locks
      // them: in any other order the two deadlock, and Postgres ends the renewal.
      "WITH held AS (SELECT l.cluster_id FROM cluster_leases l "
      "JOIN unnest($1::text[], $2::bigint[]) AS h(cluster_id, epoch) "
      // A released lease is never renewed: a renewal sent as the node stopped (the
      // keeper's own, say) would otherwise hold it for a TTL against the next owner.
      "ON l.cluster_id = h.cluster_id AND l.epoch = h.epoch WHERE l.node_id = $3 "
      "AND NOT l.released ORDER BY l.cluster_id FOR NO KEY UPDATE OF l) "
      "UPDATE cluster_leases l SET expires_at = now() + $4 * interval '1 millisecond' "
      "FROM held WHERE l.cluster_id = held.cluster_id RETURNING l.cluster_id",
      clusters, epochs, node_id, ms(ttl));
  for (const auto& row : rows)
    renewed.push_back(row[0].as<std::string>());
  return renewed;
}

std::vector<node_row> live_nodes(pqxx::transaction_base& txn,
                                 std::chrono::milliseconds ttl) {
  auto rows = exec_prepared(
      txn, "diffplane_live_nodes",
      "SELECT id, http_address, caf_host, caf_port, " + epoch_ms("started_at") + ", " +
          epoch_ms("heartbeat_at") +
          " FROM nodes WHERE stopped_at IS NULL "
          "AND heartbeat_at > now() - $1 * interval '1 millisecond' ORDER BY id",
      ms(ttl));
  std::vector<node_row> result;
  for (const auto& row : rows)
    result.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                      row[2].as<std::string>(), row[3].as<std::int32_t>(),
                      row[4].as<timestamp_ms>(), row[5].as<timestamp_ms>()});
  return result;
}

std::vector<lease_row> leases(pqxx::transaction_base& txn) {
  auto rows = exec_prepared(
      txn, "diffplane_leases",
      "SELECT cluster_id, coalesce(node_id, ''), epoch, expires_at <= now(), "
      "CASE WHEN expires_at = '-infinity' THEN 0 ELSE " +
          epoch_ms("expires_at") + " END FROM cluster_leases ORDER BY cluster_id");
  std::vector<lease_row> result;
  result.reserve(rows.size());
  for (const auto& row : rows)
    result.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                      row[2].as<std::int64_t>(), row[3].as<bool>(),
                      row[4].as<timestamp_ms>()});
  return result;
}

lease_grant acquire_lease(pqxx::transaction_base& txn, const std::string& node_id,
                          const std::string& cluster_id, std::chrono::milliseconds ttl) {
  // A cluster created by an older server has no row yet.
  txn.exec_params("INSERT INTO cluster_leases (cluster_id) SELECT id FROM clusters "
                  "WHERE id = $1 ON CONFLICT DO NOTHING",
                  cluster_id);
  // FOR UPDATE waits for the writes in flight under the current epoch (they hold the row
  // FOR KEY SHARE), so the acquirer's load sees them; and it sees a rival's acquisition.
  auto current = txn.exec_params(
      "SELECT epoch, expires_at, released FROM cluster_leases WHERE cluster_id = $1 "
      "AND (expires_at <= now() OR node_id = $2) FOR UPDATE",
      cluster_id, node_id);
  if (current.empty())
    return {};
  auto old_epoch = current[0][0].as<std::int64_t>();
  // The old epoch ended when it ran out, or now when this node takes its own lease again
  // before then (it stopped serving the cluster after a renewal came too late).
  txn.exec_params("UPDATE lease_history SET ended_at = least($3::timestamptz, now()) "
                  "WHERE cluster_id = $1 AND epoch = $2 AND ended_at IS NULL",
                  cluster_id, old_epoch, current[0][1].as<std::string>());
  auto epoch =
      txn.exec_params("UPDATE cluster_leases SET node_id = $2, epoch = epoch + 1, "
                      "expires_at = now() + $3 * interval '1 millisecond', "
                      "acquired_at = now(), released = false "
                      "WHERE cluster_id = $1 RETURNING epoch",
                      cluster_id, node_id, ms(ttl))[0][0]
          .as<std::int64_t>();
  txn.exec_params("INSERT INTO lease_history (cluster_id, epoch, node_id, acquired_at) "
                  "VALUES ($1, $2, $3, now())",
                  cluster_id, epoch, node_id);
  return {epoch, current[0][2].as<bool>()};
}

void release_lease(pqxx::transaction_base& txn, const std::string& node_id,
                   const held_lease& lease) {
  auto rows = txn.exec_params(
      "UPDATE cluster_leases SET expires_at = now(), released = true "
      "WHERE cluster_id = $1 AND node_id = $2 AND epoch = $3 AND expires_at > now() "
      "RETURNING epoch",
      lease.cluster_id, node_id, lease.epoch);
  if (!rows.empty())
    txn.exec_params("UPDATE lease_history SET ended_at = now() WHERE cluster_id = $1 "
                    "AND epoch = $2 AND ended_at IS NULL",
                    lease.cluster_id, lease.epoch);
}

void leave(pqxx::transaction_base& txn, const std::string& node_id) {
  retire_nodes(txn, {node_id}, true);
}

lease_gate_sql lease_gate_check(int first) {
  auto param = [first](int offset) { return "$" + std::to_string(first + offset); };
  // MATERIALIZED: evaluated once, before any row is written (the writes wait for `open`).
  // The lock and the writes end with the statement's own commit.
  return {"held AS MATERIALIZED (SELECT l.cluster_id FROM cluster_leases l "
          "JOIN unnest(" +
              param(0) + "::text[], " + param(1) +
              "::bigint[]) AS f(cluster_id, epoch) "
              "ON l.cluster_id = f.cluster_id AND l.epoch = f.epoch "
              "WHERE l.node_id = " +
              param(2) +
              // The keys once more, as an index condition: the plan is made once per
              // session, whatever the count of clusters then (write_plans.hpp).
              " AND l.cluster_id = ANY(" + param(0) +
              "::text[]) ORDER BY l.cluster_id FOR KEY SHARE OF l)",
          "((SELECT count(*) FROM held) = cardinality(" + param(0) + "::text[]))"};
}

void add_lease_gate_parameters(std::vector<std::string>& params, const lease_gate& gate) {
  auto [clusters, epochs] = lease_arrays(gate.leases);
  params.push_back(std::move(clusters));
  params.push_back(std::move(epochs));
  params.push_back(gate.node_id);
}

std::vector<std::string> fenced_clusters(pqxx::transaction_base& txn,
                                         const std::string& node_id,
                                         const std::vector<held_lease>& fences) {
  std::vector<std::string> fenced;
  if (fences.empty())
    return fenced;
  auto [clusters, epochs] = lease_arrays(fences);
  // FOR KEY SHARE, the weakest lock that an acquisition's FOR UPDATE still waits for:
  // the holder's renewal (FOR NO KEY UPDATE) does not, so a long group commit cannot
  // hold the renewal back until the lease runs out (FOR SHARE did: a step of 5,000
  // resources on a busy machine cost the node its cluster).
  auto rows =
      exec_prepared(txn, "diffplane_check_fences",
                    "SELECT l.cluster_id FROM cluster_leases l "
                    "JOIN unnest($1::text[], $2::bigint[]) AS f(cluster_id, epoch) "
                    "ON l.cluster_id = f.cluster_id AND l.epoch = f.epoch "
                    "WHERE l.node_id = $3 AND l.cluster_id = ANY($1::text[]) "
                    "ORDER BY l.cluster_id FOR KEY SHARE OF l",
                    clusters, epochs, node_id);
  std::unordered_set<std::string> held;
  for (const auto& row : rows)
    held.insert(row[0].as<std::string>());
  for (const auto& fence : fences)
    if (held.count(fence.cluster_id) == 0)
      fenced.push_back(fence.cluster_id);
  return fenced;
}

void insert_leases(pqxx::transaction_base& txn,
                   const std::vector<const cluster_record*>& clusters) {
  if (clusters.empty())
    return;
  std::vector<std::string> ids;
  for (const auto* c : clusters)
    ids.push_back(c->id);
  txn.exec_params("INSERT INTO cluster_leases (cluster_id) "
                  "SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
                  text_array(ids));
}

} // namespace diffplane::persistence::sql
