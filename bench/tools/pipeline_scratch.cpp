#include "bench/tools/pipeline_scratch.hpp"

#include "actors/job_ids.hpp"
#include "bench/loadgen/payload.hpp"
#include "bench/tools/tool_common.hpp"
#include "persistence/migrations.hpp"
#include "persistence/sql_clusters.hpp"
#include "persistence/sql_leases.hpp"

#include <unistd.h>

#include <pqxx/pqxx>

#include <chrono>

namespace diffplane::bench {

scratch make_scratch(pqxx::connection_base& admin) {
  persistence::apply_migrations(admin);
  scratch s;
  const auto now = epoch_ms();
  s.cluster_id = "bench-pipeline-" + std::to_string(now);
  s.gate.node_id = "bench-pipeline-node-" + std::to_string(now);
  // The API secret is unique: the cluster's id serves.
  cluster_record cluster{s.cluster_id, s.cluster_id, {}, now, false, false};
  node_identity node;
  node.id = s.gate.node_id;
  node.hostname = "bench";
  node.pid = static_cast<std::int32_t>(getpid());
  pqxx::work txn{admin};
  persistence::sql::insert_clusters(txn, {&cluster});
  persistence::sql::insert_leases(txn, {&cluster});
  persistence::sql::insert_node(txn, node, std::chrono::hours{24});
  const auto grant =
      persistence::sql::acquire_lease(txn, node.id, s.cluster_id, std::chrono::hours{24});
  txn.commit();
  s.gate.leases = {{s.cluster_id, grant.epoch}};
  return s;
}

job_record job_source::create() {
  job_record j;
  j.cluster_id = cluster_;
  j.created_at = epoch_ms();
  j.id = new_job_id(random_, j.created_at);
  j.id_generated = true;
  j.service = "bench";
  j.target_fn = "echo";
  j.target_args = job_arguments(sequence_++);
  j.revision = 1;
  return j;
}

job_state_write job_source::result_of(const job_record& j) {
  const auto now = epoch_ms();
  job_state_write w;
  w.cluster_id = j.cluster_id;
  w.id = j.id;
  w.status = job_status::success;
  w.result_type = result_kind::resolution;
  w.result = j.target_args;
  w.attempts_used = 1;
  w.executing_machine_id = "bench-machine";
  w.function_execution_time_ms = 1;
  w.last_dispatched_at = now;
  w.resulted_at = now;
  w.revision = 3;
  return w;
}

} // namespace diffplane::bench
