#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace diffplane::config {

/// Everything `diffplane serve` can be told; defaults < config file < environment <
/// flags.
struct server_options {
  /// host:port of the HTTP gateway; empty: 0.0.0.0:4000, or 127.0.0.1:4000 with --dev.
  std::string listen;
  /// Port of the CAF middleman for native clients and other nodes; 0 disables it.
  std::uint16_t caf_port = 0;
  /// The address other nodes dial to reach this node's CAF port, and the address that
  /// port is bound to.
  std::string caf_host = "127.0.0.1";
  /// This node's id among the nodes sharing the database; empty: generated at start.
  std::string node_id;
  /// How often the node heartbeats, renews its cluster leases and looks at the others.
  unsigned node_heartbeat_ms = 1000;
  /// How long a cluster lease lasts unless renewed: how long a dead node's clusters
  /// wait for a new owner.
  unsigned lease_ttl_ms = 3000;
  /// host:port of the native client listener (docs/native-protocol.md); empty: off.
  std::string native_listen;
  /// libpq connection URL; empty means: start the embedded Postgres in data_dir.
  std::string database_url;
  /// Secret of the management routes (sk_management_..., at least 32 characters).
  std::string management_secret;
  /// Where the embedded Postgres and dev state live.
  std::string data_dir = ".diffplane";
  /// Developer mode: embedded Postgres, a generated management secret, a `dev` cluster.
  bool dev = false;

  /// Threads running the HTTP gateway; 0 means half the cores, at least one.
  unsigned http_threads = 0;
  /// Threads of the actor scheduler; 0 means one per core.
  unsigned actor_threads = 0;
  /// Microseconds an idle actor thread sleeps between checks for work before it waits on
  /// a condition variable (CAF's work-stealing moderate sleep). Longer spends less CPU
  /// when saturated and adds latency when lightly loaded (docs/BENCHMARKS.md).
  unsigned actor_poll_interval_us = 50;
  /// Checks for work an idle actor thread makes, napping actor_poll_interval_us between
  /// them, before it waits to be woken. -1: 0 with one actor thread (any message from
  /// outside wakes it, so the naps only burn CPU), CAF's 500 with more (an idle thread
  /// takes work from a busy one only while it polls).
  int actor_idle_polls = -1;
  /// Largest accepted request body.
  std::size_t body_limit_bytes = 4 * 1024 * 1024;
  /// Largest accepted request header block.
  std::size_t header_limit_bytes = 16 * 1024;
  /// A connection that sends nothing for this long is closed.
  unsigned idle_timeout_seconds = 60;
  /// Gateway connections open at once; one more is closed at once. 0: the open-file
  /// limit (raised to its hard limit at start) minus a reserve.
  std::size_t max_connections = 0;
  /// Gateway connections open at once from one client IP address; one more is answered
  /// 429 and closed. 0: no limit. The SDK opens a connection per call in flight, so
  /// this is also about the most calls one SDK process can have in flight.
  std::size_t max_connections_per_address = 4096;
  /// Long-polls (worker polls and result waits) parked at once, beyond which new ones get
  /// 503.
  std::size_t max_parked_polls = 100000;
  std::size_t max_parked_polls_per_cluster = 50000;
  /// Live jobs per page when a cluster loads: it serves between pages.
  std::size_t load_page_jobs = 5000;
  /// Clusters whose live jobs load at once: each load holds a database connection of
  /// its own, so a node taking over many clusters loads them a few at a time.
  std::size_t concurrent_loads = 4;
  /// Machines one cluster may hold; a poll from one more machine is answered 429.
  std::size_t max_machines_per_cluster = 10000;
  /// Services one cluster may hold; a create or poll naming one more is answered 429.
  std::size_t max_services_per_cluster = 1000;
  /// Live (pending or running) jobs one cluster may hold; a create beyond it is answered
  /// 429.
  std::size_t max_live_jobs_per_cluster = 1000000;
  /// Bytes of job arguments and results one cluster may hold in memory; a create beyond
  /// it is answered 429. 1 GiB.
  std::uint64_t max_live_bytes_per_cluster = 1073741824;
  /// A machine silent this many hours is forgotten (memory and Postgres); 0: never.
  unsigned machine_retention_hours = 24;
  /// A service's pool idle and empty this many minutes is retired; 0: never.
  unsigned pool_retention_minutes = 60;
  /// Most job ids accepted in one /batch-jobs-status-request.
  std::size_t batch_status_max_ids = 20000;
  /// A machine that neither polls nor posts for this long is inactive; its jobs stall.
  unsigned machine_stall_seconds = 90;
  /// How long a finished job's result stays in memory for status polls.
  unsigned result_linger_seconds = 30;
  /// PEM certificate chain and private key of the HTTP gateway: both set, it serves
  /// HTTPS only; both empty, plain HTTP.
  std::string tls_cert;
  std::string tls_key;
  /// host:port of the operator's Prometheus endpoint (GET /metrics); empty: off.
  std::string metrics_listen;
  /// File the bound ports are written to once the server listens; empty: none. Tests
  /// and scripts listen on port 0 and read the port the kernel chose from it.
  std::string port_file;
  /// Stored activity and SDK telemetry older than this many hours is deleted; 0: never.
  unsigned activity_retention_hours = 168;
  /// Milliseconds a dispatch write may wait to be superseded by the job's result; 0:
  /// none.
  unsigned dispatch_write_delay_ms = 1000;
  /// Most writes one group commit gathers into one transaction.
  std::size_t group_commit_max_items = 512;
  /// Creates and client events waiting for the writer at once; beyond it new ones are
  /// answered 503 with Retry-After instead of queueing.
  std::size_t writer_queue_limit = 20000;

  // Every database connection (writer, reader, node lock, migrations) gets these, unless
  // the database URL or the libpq environment sets them (docs/configuration.md).
  /// Longest wait for a new connection (libpq connect_timeout).
  unsigned database_connect_timeout_seconds = 5;
  /// TCP keepalive: first probe after this much silence (libpq keepalives_idle).
  unsigned database_keepalive_idle_seconds = 10;
  /// TCP keepalive: seconds between probes (keepalives_interval).
  unsigned database_keepalive_interval_seconds = 5;
  /// TCP keepalive: unanswered probes before the connection is dropped.
  unsigned database_keepalive_count = 3;
  /// Milliseconds sent data may go unacknowledged before the kernel drops the
  /// connection (tcp_user_timeout); 0: the kernel's default.
  unsigned database_tcp_user_timeout_ms = 20000;
  /// statement_timeout of the writer's statements (group commits); 0: none. The watchdog
  /// cuts a connection that stays silent 2 s beyond it.
  unsigned writer_statement_timeout_ms = 10000;
  /// statement_timeout of reads (listings, activity, loads at start); 0: none.
  unsigned reader_statement_timeout_ms = 60000;
  /// idle_in_transaction_session_timeout of every session; 0: none.
  unsigned database_idle_in_transaction_timeout_ms = 60000;

  /// Serve the web console at /console on the gateway's port.
  bool console = true;
  /// Send `Server: diffplane/<version>` with every answer; off, no Server header.
  bool server_header = false;

  /// trace, debug, info, warn, error or off.
  std::string log_level = "info";
  /// text or json.
  std::string log_format = "text";

  /// Print the effective options and exit (not an option of the running server).
  bool print_config = false;
};

/// The options as TOML lines ("name = value"), secrets redacted: what --print-config
/// shows.
std::string describe(const server_options& options);

/// The listen address in effect (resolving the empty default).
std::string effective_listen(const server_options& options);

/// The first rule `options` breaks, as a one-line message, or nothing when all hold.
std::optional<std::string> validate(const server_options& options);

/// Whether `secret` is acceptable as a management secret.
std::optional<std::string> validate_management_secret(const std::string& secret);

/// host and port parsed from "host:port" (IPv6 as "[::1]:4000").
struct host_port {
  std::string host;
  std::uint16_t port = 0;
};
std::optional<host_port> parse_host_port(const std::string& text);

} // namespace diffplane::config
