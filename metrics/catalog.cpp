#include "metrics/catalog.hpp"

namespace diffplane::metrics {

job_metrics& jobs() {
  auto& r = global();
  auto transitions = [&r](const char* name, const char* help) -> counter& {
    return r.get_counter(name, help);
  };
  static job_metrics m{
      transitions("diffplane_jobs_created_total", "Jobs created (committed)."),
      transitions("diffplane_jobs_created_ephemeral_total",
                  "Ephemeral jobs created (held in memory only, never committed)."),
      transitions("diffplane_jobs_dispatched_total", "Attempts handed to a worker."),
      transitions("diffplane_jobs_stalled_total",
                  "Attempts that stalled (timeout or silent machine)."),
      transitions("diffplane_jobs_results_not_persisted_total",
                  "Results refused: not from the machine holding the attempt."),
      transitions("diffplane_jobs_results_not_recorded_total",
                  "Refused results whose activity row was not written: over their "
                  "cluster's budget of such rows."),
      r.get_counter("diffplane_jobs_succeeded_total", "Jobs that finished with a result.",
                    {{"result_type", "resolution"}}),
      r.get_counter("diffplane_jobs_succeeded_total", "Jobs that finished with a result.",
                    {{"result_type", "rejection"}}),
      transitions("diffplane_jobs_failed_total", "Jobs that failed: no attempts left."),
      transitions("diffplane_jobs_actor_failures_total",
                  "Job actors that ended with an uncaught exception; their attempts "
                  "stalled."),
      r.get_gauge("diffplane_jobs_pending", "Jobs waiting for a worker, in memory."),
      r.get_gauge("diffplane_jobs_running", "Attempts running on a worker."),
      r.get_gauge(
          "diffplane_live_bytes",
          "Payload bytes (job arguments and results) the clusters hold in memory, "
          "counted against --max-live-bytes-per-cluster."),
  };
  return m;
}

persistence_metrics& persistence() {
  auto& r = global();
  static persistence_metrics m{
      r.get_counter("diffplane_persistence_batches_total",
                    "Group commits (transactions)."),
      r.get_counter("diffplane_persistence_writes_total",
                    "Writes committed by group commits."),
      r.get_counter("diffplane_persistence_failed_batches_total",
                    "Group commits that failed as a whole."),
      r.get_counter("diffplane_persistence_replay_transactions_total",
                    "Transactions run to commit the writes of failed group commits "
                    "apart, isolating the writes that failed them."),
      r.get_counter("diffplane_persistence_refused_writes_total",
                    "Creates and client events refused because the writer's queue was "
                    "full (--writer-queue-limit)."),
      r.get_counter("diffplane_persistence_cut_calls_total",
                    "Database calls cut by the watchdog after the database did not "
                    "answer within the statement timeout plus a grace."),
      r.get_histogram("diffplane_persistence_batch_writes", "Writes per group commit.",
                      size_buckets()),
      r.get_histogram("diffplane_persistence_commit_seconds",
                      "Time to run and commit one group commit.", latency_buckets()),
  };
  return m;
}

lease_metrics& leases() {
  auto& r = global();
  static lease_metrics m{
      r.get_gauge("diffplane_leases_held", "Clusters whose lease this node holds now."),
      r.get_counter("diffplane_lease_acquisitions_total",
                    "Cluster leases this node acquired."),
      r.get_counter("diffplane_lease_hand_offs_total",
                    "Clusters this node handed to their preferred owner."),
      r.get_counter("diffplane_leases_lost_total",
                    "Leases this node lost without a hand-off: not renewed in time, "
                    "or taken by another node."),
      r.get_counter("diffplane_lease_fenced_writes_total",
                    "Writes refused because this node no longer held the cluster's "
                    "lease at the write's epoch."),
  };
  return m;
}

forwarding_metrics& forwarding() {
  auto& r = global();
  static forwarding_metrics m{
      r.get_counter("diffplane_forwarded_requests_total",
                    "Requests forwarded to the node serving their cluster and answered."),
      r.get_counter("diffplane_forward_batches_total",
                    "Messages that carried forwarded creates, polls, results and status "
                    "waits to the node serving their cluster."),
      r.get_counter("diffplane_forward_retries_total",
                    "Forwarded tries repeated because the owner was gone, no longer "
                    "served the cluster, or did not answer."),
      r.get_histogram("diffplane_forwarded_request_seconds",
                      "Time from forwarding a request to a peer to its answer.",
                      latency_buckets()),
  };
  return m;
}

connection_metrics make_connection_metrics(const std::string& listener) {
  auto& r = global();
  auto refused = [&](const char* limit) -> counter& {
    return r.get_counter("diffplane_http_connections_refused_total",
                         "Connections refused over a limit: per_address answered 429 "
                         "(--max-connections-per-address), total closed at once "
                         "(--max-connections).",
                         {{"listener", listener}, {"limit", limit}});
  };
  return connection_metrics{
      r.get_gauge("diffplane_http_connections_open",
                  "HTTP connections open now (refused ones while their answer is "
                  "written).",
                  {{"listener", listener}}),
      refused("per_address"),
      refused("total"),
      r.get_counter("diffplane_http_accept_failures_total",
                    "Accepts that failed (e.g. out of file descriptors); each is "
                    "followed by a 100 ms pause.",
                    {{"listener", listener}}),
  };
}

counter& tls_handshakes_failed() {
  static auto& failed = global().get_counter(
      "diffplane_tls_handshakes_failed_total",
      "Connections closed because their TLS handshake failed or timed out.");
  return failed;
}

counter& native_slow_consumers() {
  static auto& closed = global().get_counter(
      "diffplane_native_slow_consumers_total",
      "Native connections closed because the frames queued for them, unread, passed "
      "their bound (16 times the largest frame).");
  return closed;
}

void route_metrics::record(unsigned status, double seconds) const {
  auto index = status / 100;
  if (index >= 1 && index <= 5)
    by_class[index - 1]->add();
  latency->observe(seconds);
}

route_metrics make_route_metrics(const std::string& route, const std::string& method) {
  auto& r = global();
  route_metrics m{};
  static const char* classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  for (int i = 0; i < 5; ++i)
    m.by_class[i] =
        &r.get_counter("diffplane_http_requests_total",
                       "HTTP requests answered, by route and status class.",
                       {{"route", route}, {"method", method}, {"code", classes[i]}});
  m.latency = &r.get_histogram("diffplane_http_request_duration_seconds",
                               "Time from a request read to its answer written.",
                               latency_buckets(), {{"route", route}, {"method", method}});
  return m;
}

} // namespace diffplane::metrics
