#include "config/server_options.hpp"

#include <algorithm>
#include <charconv>

namespace diffplane::config {

namespace {
constexpr std::string_view management_prefix = "sk_management_";
constexpr std::size_t management_min_length = 32;
} // namespace

std::optional<std::string> validate_management_secret(const std::string& secret) {
  if (secret.rfind(management_prefix, 0) != 0 || secret.size() < management_min_length)
    return "management secret must start with 'sk_management_' and be at least 32 "
           "characters long";
  return std::nullopt;
}

std::optional<host_port> parse_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size())
    return std::nullopt;
  host_port result;
  result.host = text.substr(0, colon);
  if (result.host.size() >= 2 && result.host.front() == '[' && result.host.back() == ']')
    result.host = result.host.substr(1, result.host.size() - 2);
  if (result.host.empty())
    result.host = "0.0.0.0";
  unsigned port = 0;
  auto port_text = std::string_view{text}.substr(colon + 1);
  auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    return std::nullopt;
  result.port = static_cast<std::uint16_t>(port);
  return result;
}

std::string describe(const server_options& o) {
  auto quoted = [](const std::string& text) { return "\"" + text + "\""; };
  auto secret = [&](const std::string& text) {
    return text.empty()
               ? quoted("")
               : quoted(text.substr(0, std::min<std::size_t>(text.size(), 14)) + "...");
  };
  auto url = [&](const std::string& text) {
    // A URL may carry a password: show only the part before any '@'.
    auto at = text.find('@');
    return quoted(at == std::string::npos ? text : "..." + text.substr(at));
  };
  std::string out;
  auto line = [&out](const char* name, const std::string& value) {
    out += std::string{name} + " = " + value + "\n";
  };
  line("listen", quoted(effective_listen(o)));
  line("caf-port", std::to_string(o.caf_port));
  line("caf-host", quoted(o.caf_host));
  line("node-id", quoted(o.node_id));
  line("node-heartbeat-ms", std::to_string(o.node_heartbeat_ms));
  line("lease-ttl-ms", std::to_string(o.lease_ttl_ms));
  line("native-listen", quoted(o.native_listen));
  line("database-url", url(o.database_url));
  line("management-secret", secret(o.management_secret));
  line("data-dir", quoted(o.data_dir));
  line("dev", o.dev ? "true" : "false");
  line("http-threads", std::to_string(o.http_threads));
  line("actor-threads", std::to_string(o.actor_threads));
  line("actor-poll-interval-us", std::to_string(o.actor_poll_interval_us));
  line("actor-idle-polls", std::to_string(o.actor_idle_polls));
  line("body-limit", std::to_string(o.body_limit_bytes));
  line("header-limit", std::to_string(o.header_limit_bytes));
  line("idle-timeout", std::to_string(o.idle_timeout_seconds));
  line("max-connections", std::to_string(o.max_connections));
  line("max-connections-per-address", std::to_string(o.max_connections_per_address));
  line("max-parked-polls", std::to_string(o.max_parked_polls));
  line("max-parked-polls-per-cluster", std::to_string(o.max_parked_polls_per_cluster));
  line("load-page-jobs", std::to_string(o.load_page_jobs));
  line("concurrent-loads", std::to_string(o.concurrent_loads));
  line("max-machines-per-cluster", std::to_string(o.max_machines_per_cluster));
  line("max-services-per-cluster", std::to_string(o.max_services_per_cluster));
  line("max-live-jobs-per-cluster", std::to_string(o.max_live_jobs_per_cluster));
  line("max-live-bytes-per-cluster", std::to_string(o.max_live_bytes_per_cluster));
  line("machine-retention-hours", std::to_string(o.machine_retention_hours));
  line("pool-retention-minutes", std::to_string(o.pool_retention_minutes));
  line("batch-status-max-ids", std::to_string(o.batch_status_max_ids));
  line("machine-stall-seconds", std::to_string(o.machine_stall_seconds));
  line("result-linger-seconds", std::to_string(o.result_linger_seconds));
  line("group-commit-max-items", std::to_string(o.group_commit_max_items));
  line("dispatch-write-delay-ms", std::to_string(o.dispatch_write_delay_ms));
  line("tls-cert", quoted(o.tls_cert));
  line("tls-key", quoted(o.tls_key));
  line("writer-queue-limit", std::to_string(o.writer_queue_limit));
  line("database-connect-timeout", std::to_string(o.database_connect_timeout_seconds));
  line("database-keepalive-idle", std::to_string(o.database_keepalive_idle_seconds));
  line("database-keepalive-interval",
       std::to_string(o.database_keepalive_interval_seconds));
  line("database-keepalive-count", std::to_string(o.database_keepalive_count));
  line("database-tcp-user-timeout-ms", std::to_string(o.database_tcp_user_timeout_ms));
  line("writer-statement-timeout-ms", std::to_string(o.writer_statement_timeout_ms));
  line("reader-statement-timeout-ms", std::to_string(o.reader_statement_timeout_ms));
  line("database-idle-in-transaction-timeout-ms",
       std::to_string(o.database_idle_in_transaction_timeout_ms));
  line("metrics-listen", quoted(o.metrics_listen));
  line("port-file", quoted(o.port_file));
  line("activity-retention-hours", std::to_string(o.activity_retention_hours));
  line("console", o.console ? "true" : "false");
  line("server-header", o.server_header ? "true" : "false");
  line("log-level", quoted(o.log_level));
  line("log-format", quoted(o.log_format));
  return out;
}

std::string effective_listen(const server_options& options) {
  if (!options.listen.empty())
    return options.listen;
  return options.dev ? "127.0.0.1:4000" : "0.0.0.0:4000";
}

std::optional<std::string> validate(const server_options& options) {
  if (!parse_host_port(effective_listen(options)))
    return "--listen must be host:port, got '" + options.listen + "'";
  if (!options.native_listen.empty() && !parse_host_port(options.native_listen))
    return "--native-listen must be host:port, got '" + options.native_listen + "'";
  if (!options.metrics_listen.empty() && !parse_host_port(options.metrics_listen))
    return "--metrics-listen must be host:port, got '" + options.metrics_listen + "'";
  if (options.tls_cert.empty() != options.tls_key.empty())
    return "--tls-cert and --tls-key go together: give both (HTTPS) or neither (HTTP)";
  if (!options.management_secret.empty())
    if (auto error = validate_management_secret(options.management_secret))
      return error;
  if (options.management_secret.empty() && !options.dev)
    return "a management secret is required: set MANAGEMENT_SECRET or "
           "--management-secret "
           "(or use --dev)";
  if (options.data_dir.empty())
    return "--data-dir must not be empty";
  if (options.body_limit_bytes < 1024)
    return "--body-limit must be at least 1024 bytes";
  if (options.header_limit_bytes < 1024)
    return "--header-limit must be at least 1024 bytes";
  if (options.idle_timeout_seconds == 0)
    return "--idle-timeout must be at least 1 second";
  if (options.max_parked_polls == 0)
    return "--max-parked-polls must be at least 1";
  if (options.max_parked_polls_per_cluster == 0)
    return "--max-parked-polls-per-cluster must be at least 1";
  if (options.load_page_jobs == 0 || options.load_page_jobs > 1000000)
    return "--load-page-jobs must be from 1 to 1000000";
  if (options.concurrent_loads == 0 || options.concurrent_loads > 1000)
    return "--concurrent-loads must be from 1 to 1000";
  if (options.max_machines_per_cluster == 0)
    return "--max-machines-per-cluster must be at least 1";
  if (options.max_services_per_cluster == 0)
    return "--max-services-per-cluster must be at least 1";
  if (options.max_live_jobs_per_cluster == 0)
    return "--max-live-jobs-per-cluster must be at least 1";
  if (options.max_live_bytes_per_cluster == 0)
    return "--max-live-bytes-per-cluster must be at least 1";
  if (options.machine_retention_hours > 0 &&
      options.machine_retention_hours * 3600ULL <= options.machine_stall_seconds)
    return "--machine-retention-hours must be longer than --machine-stall-seconds (or 0)";
  if (options.batch_status_max_ids < 1000)
    return "--batch-status-max-ids must be at least 1000 (the SDK sends up to 1000)";
  if (options.machine_stall_seconds == 0)
    return "--machine-stall-seconds must be at least 1";
  if (options.actor_poll_interval_us == 0 || options.actor_poll_interval_us > 10000)
    return "--actor-poll-interval-us must be between 1 and 10000";
  if (options.actor_idle_polls < -1 || options.actor_idle_polls > 100000)
    return "--actor-idle-polls must be between -1 and 100000";
  if (options.group_commit_max_items == 0)
    return "--group-commit-max-items must be at least 1";
  if (options.writer_queue_limit == 0)
    return "--writer-queue-limit must be at least 1";
  if (options.node_id.size() > 64 ||
      options.node_id.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
          "0123456789._-") != std::string::npos)
    return "--node-id must be at most 64 letters, digits, '.', '_' or '-', got '" +
           options.node_id + "'";
  if (options.node_heartbeat_ms < 50)
    return "--node-heartbeat-ms must be at least 50";
  if (options.lease_ttl_ms < 2 * options.node_heartbeat_ms)
    return "--lease-ttl-ms must be at least twice --node-heartbeat-ms, so that a lease "
           "is renewed before it runs out";
  if (options.log_format != "text" && options.log_format != "json")
    return "--log-format must be 'text' or 'json', got '" + options.log_format + "'";
  static constexpr std::string_view levels[] = {"trace", "debug", "info",
                                                "warn",  "error", "off"};
  bool known_level = false;
  for (auto level : levels)
    known_level = known_level || options.log_level == level;
  if (!known_level)
    return "--log-level must be one of trace, debug, info, warn, error, off; got '" +
           options.log_level + "'";
  return std::nullopt;
}

} // namespace diffplane::config
