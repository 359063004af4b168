#include "config/command_line.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <memory>
#include <set>

namespace diffplane::config {

namespace {
void let_environment_override_config_file(CLI::App& root, CLI::App& serve);
} // namespace

void add_server_options(CLI::App& root, CLI::App& serve, server_options& o) {
  auto& app = serve;
  // CLI11 reads config files for the main app only; `serve --config` falls through to it.
  root.set_config("--config", "",
                  "TOML file of `serve` options (keys as the long flags)");
  // A misspelt key must not be ignored silently.
  root.allow_config_extras(CLI::config_extras_mode::error);
  serve.fallthrough();
  serve.footer(
      "Options may also come from a TOML file, --config FILE, whose keys are the "
      "long flags (listen = \"0.0.0.0:4000\"). Flags beat environment variables, "
      "which beat the file, which beats the defaults.");
  app.add_option("--listen", o.listen,
                 "host:port of the HTTP gateway [default: 0.0.0.0:4000; 127.0.0.1:4000 "
                 "with --dev]")
      ->envname("DIFFPLANE_LISTEN");
  app.add_option("--caf-port", o.caf_port,
                 "port on which this node links to the other nodes of the control plane "
                 "(CAF's middleman; a private network only); 0: a node alone")
      ->envname("DIFFPLANE_CAF_PORT")
      ->capture_default_str();
  app.add_option("--caf-host", o.caf_host,
                 "address of this node's CAF port, as the other nodes dial it (the port "
                 "is bound to it)")
      ->envname("DIFFPLANE_CAF_HOST")
      ->capture_default_str();
  app.add_option("--node-id", o.node_id,
                 "this node's id among the nodes sharing the database (letters, digits, "
                 "'.', '_', '-'); empty: generated at start")
      ->envname("DIFFPLANE_NODE_ID");
  app.add_option("--node-heartbeat-ms", o.node_heartbeat_ms,
                 "how often the node heartbeats and renews its cluster leases")
      ->envname("DIFFPLANE_NODE_HEARTBEAT_MS")
      ->capture_default_str();
  app.add_option(
         "--lease-ttl-ms", o.lease_ttl_ms,
         "how long a cluster lease lasts unless renewed: how long the clusters of "
         "a node that died wait for a new owner")
      ->envname("DIFFPLANE_LEASE_TTL_MS")
      ->capture_default_str();
  app.add_option("--native-listen", o.native_listen,
                 "host:port of the native client protocol (docs/native-protocol.md); "
                 "off when empty")
      ->envname("DIFFPLANE_NATIVE_LISTEN");
  app.add_option("--database-url", o.database_url,
                 "Postgres URL; when empty an embedded Postgres runs in --data-dir")
      ->envname("DATABASE_URL");
  app.add_option("--management-secret", o.management_secret,
                 "secret of the management routes: sk_management_..., >= 32 characters")
      ->envname("MANAGEMENT_SECRET");
  app.add_option("--data-dir", o.data_dir,
                 "directory of the embedded Postgres and dev state")
      ->envname("DIFFPLANE_DATA_DIR")
      ->capture_default_str();
  app.add_flag("--dev", o.dev,
               "developer mode: embedded Postgres, generated management secret, a 'dev' "
               "cluster, listen on 127.0.0.1")
      ->envname("DIFFPLANE_DEV");
  app.add_option("--http-threads", o.http_threads,
                 "HTTP gateway threads (0: half the cores, at least one)")
      ->envname("DIFFPLANE_HTTP_THREADS")
      ->capture_default_str();
  app.add_option("--actor-threads", o.actor_threads,
                 "actor scheduler threads (0: cores minus HTTP threads, at least one)")
      ->envname("DIFFPLANE_ACTOR_THREADS")
      ->capture_default_str();
  app.add_option("--actor-poll-interval-us", o.actor_poll_interval_us,
                 "microseconds an idle actor thread sleeps between checks for work "
                 "(longer: less CPU when saturated, more latency when lightly loaded)")
      ->envname("DIFFPLANE_ACTOR_POLL_INTERVAL_US")
      ->capture_default_str();
  app.add_option("--actor-idle-polls", o.actor_idle_polls,
                 "checks for work an idle actor thread makes before it waits to be woken "
                 "(-1: 0 with one actor thread, 500 with more)")
      ->envname("DIFFPLANE_ACTOR_IDLE_POLLS")
      ->capture_default_str();
  app.add_option("--body-limit", o.body_limit_bytes, "largest request body in bytes")
      ->envname("DIFFPLANE_BODY_LIMIT")
      ->capture_default_str();
  app.add_option("--header-limit", o.header_limit_bytes,
                 "largest request header in bytes")
      ->envname("DIFFPLANE_HEADER_LIMIT")
      ->capture_default_str();
  app.add_option("--idle-timeout", o.idle_timeout_seconds,
                 "seconds a connection may stay silent before it is closed")
      ->envname("DIFFPLANE_IDLE_TIMEOUT")
      ->capture_default_str();
  app.add_option("--max-connections", o.max_connections,
                 "gateway connections open at once; one more is closed at once (0: the "
                 "open-file limit minus a reserve of 512)")
      ->envname("DIFFPLANE_MAX_CONNECTIONS")
      ->capture_default_str();
  app.add_option("--max-connections-per-address", o.max_connections_per_address,
                 "gateway connections open at once from one client IP address; one more "
                 "is answered 429 and closed (0: no limit)")
      ->envname("DIFFPLANE_MAX_CONNECTIONS_PER_ADDRESS")
      ->capture_default_str();
  app.add_option("--max-parked-polls", o.max_parked_polls,
                 "long-polls parked at once; beyond it worker polls get 503 and status "
                 "polls are answered at once")
      ->envname("DIFFPLANE_MAX_PARKED_POLLS")
      ->capture_default_str();
  app.add_option("--max-parked-polls-per-cluster", o.max_parked_polls_per_cluster,
                 "long-polls parked at once in one cluster; beyond it its worker polls "
                 "get 429 and its status polls are answered at once")
      ->envname("DIFFPLANE_MAX_PARKED_POLLS_PER_CLUSTER")
      ->capture_default_str();
  app.add_option("--load-page-jobs", o.load_page_jobs,
                 "live jobs a cluster loads per page at a start or takeover; it serves "
                 "between pages")
      ->envname("DIFFPLANE_LOAD_PAGE_JOBS")
      ->capture_default_str();
  app.add_option("--concurrent-loads", o.concurrent_loads,
                 "clusters whose live jobs load at once, each on a database connection "
                 "of its own; the others serve and wait for their turn")
      ->envname("DIFFPLANE_CONCURRENT_LOADS")
      ->capture_default_str();
  app.add_option("--max-machines-per-cluster", o.max_machines_per_cluster,
                 "machines one cluster may hold; a poll from one more is answered 429")
      ->envname("DIFFPLANE_MAX_MACHINES_PER_CLUSTER")
      ->capture_default_str();
  app.add_option("--max-services-per-cluster", o.max_services_per_cluster,
                 "services one cluster may hold; a create or poll naming one more is "
                 "answered 429")
      ->envname("DIFFPLANE_MAX_SERVICES_PER_CLUSTER")
      ->capture_default_str();
  app.add_option(
         "--max-live-jobs-per-cluster", o.max_live_jobs_per_cluster,
         "live (pending or running) jobs one cluster may hold; a create beyond it "
         "is answered 429")
      ->envname("DIFFPLANE_MAX_LIVE_JOBS_PER_CLUSTER")
      ->capture_default_str();
  app.add_option("--max-live-bytes-per-cluster", o.max_live_bytes_per_cluster,
                 "bytes of job arguments and results one cluster may hold in memory "
                 "(live jobs' arguments, results until they linger out); a create "
                 "beyond it is answered 429")
      ->envname("DIFFPLANE_MAX_LIVE_BYTES_PER_CLUSTER")
      ->capture_default_str();
  app.add_option(
         "--machine-retention-hours", o.machine_retention_hours,
         "a machine silent this many hours is forgotten; 0 keeps machines forever")
      ->envname("DIFFPLANE_MACHINE_RETENTION_HOURS")
      ->capture_default_str();
  app.add_option("--pool-retention-minutes", o.pool_retention_minutes,
                 "a service's pool with no work, no parked poll and no activity for this "
                 "many minutes is retired (no longer counts against "
                 "--max-services-per-cluster); 0 keeps pools forever")
      ->envname("DIFFPLANE_POOL_RETENTION_MINUTES")
      ->capture_default_str();
  app.add_option("--batch-status-max-ids", o.batch_status_max_ids,
                 "most job ids in one /batch-jobs-status-request")
      ->envname("DIFFPLANE_BATCH_STATUS_MAX_IDS")
      ->capture_default_str();
  app.add_option("--machine-stall-seconds", o.machine_stall_seconds,
                 "a machine silent this long is inactive and its running jobs stall")
      ->envname("DIFFPLANE_MACHINE_STALL_SECONDS")
      ->capture_default_str();
  app.add_option("--result-linger-seconds", o.result_linger_seconds,
                 "seconds a finished job's result stays in memory for status polls")
      ->envname("DIFFPLANE_RESULT_LINGER_SECONDS")
      ->capture_default_str();
  app.add_option("--group-commit-max-items", o.group_commit_max_items,
                 "most writes gathered into one database transaction")
      ->envname("DIFFPLANE_GROUP_COMMIT_MAX_ITEMS")
      ->capture_default_str();
  app.add_option("--writer-queue-limit", o.writer_queue_limit,
                 "creates and client events waiting for the database writer at once; "
                 "beyond it new ones get 503 with Retry-After")
      ->envname("DIFFPLANE_WRITER_QUEUE_LIMIT")
      ->capture_default_str();
  app.add_option("--database-connect-timeout", o.database_connect_timeout_seconds,
                 "seconds to wait for a new database connection (libpq connect_timeout)")
      ->envname("DIFFPLANE_DATABASE_CONNECT_TIMEOUT")
      ->capture_default_str();
  app.add_option("--database-keepalive-idle", o.database_keepalive_idle_seconds,
                 "seconds of silence before the first TCP keepalive probe")
      ->envname("DIFFPLANE_DATABASE_KEEPALIVE_IDLE")
      ->capture_default_str();
  app.add_option("--database-keepalive-interval", o.database_keepalive_interval_seconds,
                 "seconds between TCP keepalive probes")
      ->envname("DIFFPLANE_DATABASE_KEEPALIVE_INTERVAL")
      ->capture_default_str();
  app.add_option("--database-keepalive-count", o.database_keepalive_count,
                 "unanswered TCP keepalive probes before a connection is dropped")
      ->envname("DIFFPLANE_DATABASE_KEEPALIVE_COUNT")
      ->capture_default_str();
  app.add_option("--database-tcp-user-timeout-ms", o.database_tcp_user_timeout_ms,
                 "ms sent data may stay unacknowledged before the connection is dropped "
                 "(0: the kernel's default)")
      ->envname("DIFFPLANE_DATABASE_TCP_USER_TIMEOUT_MS")
      ->capture_default_str();
  app.add_option("--writer-statement-timeout-ms", o.writer_statement_timeout_ms,
                 "statement_timeout of the writer's group commits; its watchdog cuts a "
                 "connection silent 2 s longer (0: neither)")
      ->envname("DIFFPLANE_WRITER_STATEMENT_TIMEOUT_MS")
      ->capture_default_str();
  app.add_option("--reader-statement-timeout-ms", o.reader_statement_timeout_ms,
                 "statement_timeout of reads: listings, activity, loads at start "
                 "(0: none)")
      ->envname("DIFFPLANE_READER_STATEMENT_TIMEOUT_MS")
      ->capture_default_str();
  app.add_option("--database-idle-in-transaction-timeout-ms",
                 o.database_idle_in_transaction_timeout_ms,
                 "idle_in_transaction_session_timeout of every session (0: none)")
      ->envname("DIFFPLANE_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS")
      ->capture_default_str();
  app.add_option(
         "--dispatch-write-delay-ms", o.dispatch_write_delay_ms,
         "ms a dispatch's write may wait for the job's result to replace it (0: none)")
      ->envname("DIFFPLANE_DISPATCH_WRITE_DELAY_MS")
      ->capture_default_str();
  app.add_option("--tls-cert", o.tls_cert,
                 "PEM file of the certificate chain: with --tls-key, the gateway serves "
                 "HTTPS only (the --metrics-listen port stays plain HTTP)")
      ->envname("DIFFPLANE_TLS_CERT");
  app.add_option("--tls-key", o.tls_key, "PEM file of the private key of --tls-cert")
      ->envname("DIFFPLANE_TLS_KEY");
  app.add_option("--metrics-listen", o.metrics_listen,
                 "host:port of the Prometheus endpoint GET /metrics (empty: off)")
      ->envname("DIFFPLANE_METRICS_LISTEN");
  app.add_option("--port-file", o.port_file,
                 "file to write the bound ports to once listening: http=PORT and "
                 "metrics=PORT lines (for --listen and --metrics-listen with port 0)")
      ->envname("DIFFPLANE_PORT_FILE");
  app.add_option("--activity-retention-hours", o.activity_retention_hours,
                 "hours stored activity and SDK telemetry are kept (0: forever)")
      ->envname("DIFFPLANE_ACTIVITY_RETENTION_HOURS")
      ->capture_default_str();
  app.add_flag("--console", o.console,
               "serve the web console at /console on the gateway's port "
               "(--console=false: off)")
      ->envname("DIFFPLANE_CONSOLE")
      ->capture_default_str();
  app.add_flag("--server-header", o.server_header,
               "send 'Server: diffplane/<version>' with every answer (default: no "
               "Server header)")
      ->envname("DIFFPLANE_SERVER_HEADER");
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error or off")
      ->envname("DIFFPLANE_LOG_LEVEL")
      ->capture_default_str();
  app.add_option("--log-format", o.log_format, "text or json")
      ->envname("DIFFPLANE_LOG_FORMAT")
      ->capture_default_str();
  app.add_flag("--print-config", o.print_config,
               "print the effective options (secrets redacted) and exit");
  let_environment_override_config_file(root, serve);
}

namespace {

/// A TOML reader for the `serve` options: top-level keys belong to `serve`, and the
/// file's values of options whose environment variable is set are dropped.
class environment_first_config : public CLI::ConfigTOML {
public:
  environment_first_config(std::string section, std::set<std::string> overridden)
      : section_(std::move(section)), overridden_(std::move(overridden)) {}

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    auto items = CLI::ConfigTOML::from_config(input);
    for (auto& item : items)
      if (item.parents.empty() && item.name != "++" && item.name != "--")
        item.parents.push_back(section_);
    std::erase_if(items, [this](const CLI::ConfigItem& item) {
      return item.parents.size() == 1 && item.parents[0] == section_ &&
             overridden_.count(item.name) > 0;
    });
    return items;
  }

private:
  std::string section_;
  std::set<std::string> overridden_;
};

void let_environment_override_config_file(CLI::App& root, CLI::App& serve) {
  std::set<std::string> overridden;
  for (const auto* option : serve.get_options()) {
    auto env = option->get_envname();
    const char* value = env.empty() ? nullptr : std::getenv(env.c_str());
    // CLI11 ignores empty variables too.
    if (value != nullptr && *value != '\0') {
      auto name = option->get_single_name();
      overridden.insert(name);
    }
  }
  root.config_formatter(std::make_shared<environment_first_config>(
      serve.get_name(), std::move(overridden)));
}

} // namespace

} // namespace diffplane::config
