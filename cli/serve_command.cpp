#include "cli/serve_command.hpp"

#include "actors/mesh.hpp"
#include "actors/message_types.hpp"
#include "actors/node_actor.hpp"
#include "actors/scheduler.hpp"
#include "actors/secrets.hpp"
#include "cli/database_urls.hpp"
#include "cli/dev_mode.hpp"
#include "cli/file_limit.hpp"
#include "cli/logging.hpp"
#include "cli/port_file.hpp"
#include "config/version.hpp"
#include "gateway/connection_limits.hpp"
#include "gateway/http_server.hpp"
#include "gateway/informed_resources.hpp"
#include "gateway/make_actor_bridge.hpp"
#include "gateway/routes.hpp"
#include "metrics/registry.hpp"
#include "native/native_server.hpp"
#include "persistence/embedded_postgres.hpp"
#include "persistence/errors.hpp"
#include "persistence/lease_keeper.hpp"
#include "persistence/migrations.hpp"
#include "persistence/result_lane.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <csignal>
#include <iostream>
#include <optional>
#include <random>
#include <thread>

namespace diffplane::cli {

namespace {

/// How long start-up may take to load every cluster before the server gives up.
constexpr auto startup_timeout = std::chrono::minutes{10};
/// How long requests in flight get to finish at shutdown (long-polls are answered at
/// once).
constexpr auto drain_timeout = std::chrono::seconds{10};

unsigned cores() {
  return std::max(1u, std::thread::hardware_concurrency());
}

/// Parsing HTTP costs less than the actors and Postgres behind it: half the cores (at
/// least one) measured best on 2 cores (docs/BENCHMARKS.md).
unsigned http_threads_of(unsigned configured) {
  return configured > 0 ? configured : std::max(1u, cores() / 2);
}

/// The cores the gateway leaves (at least one). More actor threads than that contend
/// with the gateway for cores: on 2 cores, one actor thread instead of two cut the
/// server's CPU per job by a fifth and the dispatch p99 from 5 to 1 ms
/// (docs/BENCHMARKS.md, fourth round).
unsigned actor_threads_of(unsigned configured, unsigned http_threads) {
  if (configured > 0)
    return configured;
  return cores() > http_threads ? cores() - http_threads : 1u;
}

/// A lone actor thread is woken by every message from another thread, so polling only
/// burns CPU: without it the server's CPU per job fell by 13-40 % at every load, with a
/// shorter dispatch (docs/BENCHMARKS.md). Several threads poll to steal each other's
/// work, as CAF does by default.
std::size_t actor_idle_polls_of(int configured, unsigned actor_threads) {
  if (configured >= 0)
    return static_cast<std::size_t>(configured);
  return actor_threads == 1 ? 0 : 500;
}

domain_options domain_options_of(const config::server_options& o) {
  domain_options d;
  d.machine_stall = std::chrono::seconds{o.machine_stall_seconds};
  d.result_linger = std::chrono::seconds{o.result_linger_seconds};
  d.batch_status_max_ids = o.batch_status_max_ids;
  d.max_parked_polls = o.max_parked_polls;
  d.max_parked_polls_per_cluster = o.max_parked_polls_per_cluster;
  d.max_machines_per_cluster = o.max_machines_per_cluster;
  d.load_page_jobs = static_cast<std::int32_t>(o.load_page_jobs);
  d.max_services_per_cluster = o.max_services_per_cluster;
  d.max_live_jobs_per_cluster = o.max_live_jobs_per_cluster;
  d.max_live_bytes_per_cluster = o.max_live_bytes_per_cluster;
  d.machine_retention = std::chrono::hours{o.machine_retention_hours};
  d.pool_retention = std::chrono::minutes{o.pool_retention_minutes};
  d.max_writer_queue = o.writer_queue_limit;
  d.resources.decode_informed = gateway::decode_informed;
  return d;
}

/// Gauges read when /metrics is scraped.
void register_runtime_gauges(caf::actor_system& system, const parked_counter& parked,
                             const parked_counter& writer_queue) {
  auto& registry = metrics::global();
  registry.add_callback_gauge("diffplane_parked_long_polls",
                              "Worker polls and result waits parked now.",
                              [parked] { return static_cast<double>(parked->load()); });
  registry.add_callback_gauge(
      "diffplane_writer_queue",
      "Creates and client events waiting for the database writer now.",
      [writer_queue] { return static_cast<double>(writer_queue->load()); });
  registry.add_callback_gauge(
      "diffplane_actors_alive", "Actors running in this process.",
      [&system] { return static_cast<double>(system.registry().running()); });
}

class actor_config : public caf::actor_system_config {
public:
  actor_config(unsigned threads, std::chrono::microseconds poll_interval,
               std::size_t idle_polls) {
    register_message_types(*this);
    use_work_stealing_scheduler(*this);
    set("scheduler.max-threads", static_cast<std::size_t>(threads));
    set("work-stealing.moderate-sleep-duration", caf::timespan{poll_interval});
    set("work-stealing.moderate-poll-attempts", idle_polls);
    set("logger.verbosity", caf::atom("quiet"));
  }

  /// Links the node to its peers through CAF's middleman. Its heartbeats are off by
  /// default, so a frozen or cut-off peer would never be noticed: they are on, and a
  /// peer silent for a lease TTL is dropped (its requests are then tried elsewhere).
  void enable_mesh(std::chrono::milliseconds heartbeat, std::chrono::milliseconds ttl) {
    load<caf::io::middleman>();
    set("middleman.heartbeat-interval", caf::timespan{heartbeat});
    set("middleman.connection-timeout", caf::timespan{ttl});
    // A message from a peer is deserialized by the middleman's own thread rather than
    // handed to a scheduler worker first: one thread hand-off less per forwarded
    // request and answer, on a machine where hand-offs, not work, were the cost.
    set("middleman.workers", std::size_t{0});
  }
};

/// Tells an actor to exit when it goes out of scope.
struct stop_on_return {
  caf::actor handle;
  stop_on_return() = default;
  stop_on_return(const stop_on_return&) = delete;
  stop_on_return& operator=(const stop_on_return&) = delete;
  ~stop_on_return() {
    if (handle)
      caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
  }
};

/// Resets a pointer when the scope ends.
template <class T> struct reset_on_return {
  std::unique_ptr<T>& pointer;
  explicit reset_on_return(std::unique_ptr<T>& p) : pointer(p) {}
  reset_on_return(const reset_on_return&) = delete;
  reset_on_return& operator=(const reset_on_return&) = delete;
  ~reset_on_return() { pointer.reset(); }
};

/// Blocks SIGINT/SIGTERM in every thread started from here on, so sigwait gets them.
sigset_t block_shutdown_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

/// Waits for SIGINT or SIGTERM; returns the signal.
int wait_for_shutdown_signal(const sigset_t& signals) {
  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) == 0)
      return signal_number;
  }
}

/// A node id for a node not given one: unique among the nodes of a database with
/// overwhelming odds (48 random bits), and short enough to read in logs.
std::string generated_node_id() {
  std::random_device entropy;
  std::uniform_int_distribution<std::uint64_t> bits{0, (std::uint64_t{1} << 48) - 1};
  char text[24];
  std::snprintf(text, sizeof text, "node-%012llx",
                static_cast<unsigned long long>(bits(entropy)));
  return text;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0)
    return {};
  return name;
}

/// The answer of a blocking request to the node (start-up and shutdown only), or throws
/// with the error's one-line message.
template <class T, class Timeout, class... Ts>
T await(caf::scoped_actor& self, const node_actor& node, Timeout timeout, Ts... xs) {
  std::optional<T> value;
  caf::error failure;
  self->request(node, timeout, xs...)
      .receive([&](T& v) { value = std::move(v); },
               [&](caf::error& err) { failure = err; });
  if (!value)
    throw std::runtime_error(message_of(failure));
  return std::move(*value);
}

/// The `dev` cluster, created on first start.
cluster_record ensure_dev_cluster(caf::scoped_actor& self, const node_actor& node) {
  auto clusters = await<std::vector<cluster_record>>(self, node, std::chrono::seconds{30},
                                                     list_clusters_atom::value);
  for (const auto& c : clusters)
    if (c.description == "dev")
      return c;
  return await<cluster_record>(self, node, std::chrono::seconds{30},
                               create_cluster_atom::value, std::string{"dev"});
}

} // namespace

int run_serve(config::server_options options) {
  configure_logging(options.log_level, options.log_format);
  if (options.dev && options.management_secret.empty()) {
    try {
      options.management_secret = dev_management_secret(options.data_dir);
    } catch (const std::exception& e) {
      std::cerr << "diffplane: " << e.what() << "\n";
      return 2;
    }
  }
  if (auto error = config::validate(options)) {
    std::cerr << "diffplane: " << *error << "\n";
    return 2;
  }
  if (options.print_config) {
    std::cout << config::describe(options);
    return 0;
  }
  auto signals = block_shutdown_signals();
  auto listen = *config::parse_host_port(config::effective_listen(options));
  auto open_files = raise_open_file_limit();
  auto max_connections =
      options.max_connections > 0 ? options.max_connections : connections_for(open_files);
  if (max_connections + descriptor_reserve > open_files)
    spdlog::warn("event=max_connections_above_file_limit max_connections={} "
                 "open_file_limit={} reason=\"accepts may fail for want of descriptors\"",
                 max_connections, open_files);

  std::optional<persistence::embedded_postgres> embedded;
  database_urls urls;
  node_identity identity;
  identity.id = options.node_id.empty() ? generated_node_id() : options.node_id;
  identity.http_address = config::effective_listen(options);
  identity.hostname = host_name();
  identity.pid = static_cast<std::int32_t>(getpid());
  identity.caf_host = options.caf_host;
  identity.caf_port = options.caf_port;
  auto lease_ttl = std::chrono::milliseconds{options.lease_ttl_ms};
  auto heartbeat = std::chrono::milliseconds{options.node_heartbeat_ms};
  bool mesh = options.caf_port != 0;
  try {
    auto database_url = options.database_url;
    if (database_url.empty()) {
      embedded.emplace(persistence::embedded_postgres::start({options.data_dir}));
      database_url = embedded->connection_url();
    }
    urls = database_urls_of(database_url, options);
    pqxx::connection connection{urls.migrations};
    auto report = persistence::apply_migrations(connection);
    spdlog::info("event=schema_ready version_before={} version_after={}",
                 report.version_before, report.version_after);
  } catch (const std::exception& e) {
    std::cerr << "diffplane: cannot prepare the database: " << e.what() << "\n";
    return 1;
  }

  auto http_threads = http_threads_of(options.http_threads);
  auto actor_threads = actor_threads_of(options.actor_threads, http_threads);
  actor_config cfg{actor_threads, std::chrono::microseconds{options.actor_poll_interval_us},
                   actor_idle_polls_of(options.actor_idle_polls, actor_threads)};
  if (mesh)
    cfg.enable_mesh(heartbeat, lease_ttl);
  caf::actor_system system{cfg};
  identity.caf_node = caf::to_string(system.node());
  std::string mesh_secret;
  try {
    mesh_secret =
        register_node(urls.membership, identity, lease_ttl, secrets::new_api_secret());
    spdlog::info("event=node_registered node={} host={} pid={} caf_port={}", identity.id,
                 identity.hostname, identity.pid, identity.caf_port);
  } catch (const std::exception& e) {
    std::cerr << "diffplane: cannot join the control plane: " << e.what() << "\n";
    return 1;
  }
  node_options node_opts;
  node_opts.domain = domain_options_of(options);
  node_opts.activity_retention_hours =
      static_cast<std::int32_t>(options.activity_retention_hours);
  node_opts.parked = std::make_shared<std::atomic<std::size_t>>(0);
  node_opts.membership.node_id = identity.id;
  node_opts.membership.heartbeat = heartbeat;
  node_opts.membership.lease_ttl = lease_ttl;
  node_opts.membership.mesh = mesh;
  node_opts.membership.mesh_secret = mesh_secret;
  register_runtime_gauges(system, node_opts.parked, node_opts.domain.writer_queue);
  persistence_options writer;
  writer.max_batch_items = options.group_commit_max_items;
  writer.max_concurrent_loads = options.concurrent_loads;
  writer.dispatch_write_delay =
      std::chrono::milliseconds{options.dispatch_write_delay_ms};
  writer.read_statement_timeout =
      std::chrono::milliseconds{options.reader_statement_timeout_ms};
  auto reader = writer;
  writer.database_url = urls.writer;
  writer.node_id = identity.id;
  writer.statement_timeout =
      std::chrono::milliseconds{options.writer_statement_timeout_ms};
  reader.database_url = urls.reader;
  reader.statement_timeout = reader.read_statement_timeout;
  reader.plans_for_writes = false;
  lease_keeper_options keeper{urls.membership, identity.id, lease_ttl, {}};
  auto node = spawn_node(
      system, node_opts,
      [writer, reader](caf::actor_system& sys, const std::string& role) {
        auto opts = role == "writer" ? writer : reader;
        opts.name = role;
        return role == "writer" ? spawn_writer(sys, std::move(opts))
                                : spawn_persistence(sys, std::move(opts));
      },
      [keeper](caf::actor_system& sys, std::shared_ptr<lease_ledger> ledger) {
        auto opts = keeper;
        opts.ledger = std::move(ledger);
        return spawn_lease_keeper(sys, std::move(opts));
      });
  caf::scoped_actor self{system};
  // The actor system waits for every actor at its end: the gate leaves with any return.
  stop_on_return gate_guard;
  if (mesh) {
    auto gate = spawn_mesh_gate(system, node, mesh_secret);
    gate_guard.handle = caf::actor_cast<caf::actor>(gate);
    auto published = system.middleman().publish(gate, options.caf_port,
                                                options.caf_host.c_str(), true);
    if (!published) {
      std::cerr << "diffplane: --caf-port " << options.caf_port << ": "
                << system.render(published.error()) << "\n";
      caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
      return 1;
    }
    spdlog::info("event=mesh_listening address={}:{}", options.caf_host, *published);
  }
  cluster_record dev_cluster;
  try {
    await<done_atom>(self, node, startup_timeout, await_ready_atom::value);
    if (options.dev)
      dev_cluster = ensure_dev_cluster(self, node);
  } catch (const std::exception& e) {
    std::cerr << "diffplane: cannot start: " << e.what() << "\n";
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    return 1;
  }

  auto bridge = gateway::make_actor_bridge(system, node, 2);
  gateway::router routes;
  gateway::route_context context{*bridge, options.management_secret,
                                 gateway::decode_limits{options.batch_status_max_ids},
                                 gateway::contract_text()};
  gateway::add_api_routes(routes, context);
  if (options.console)
    gateway::add_console_routes(routes);
  std::unique_ptr<gateway::http_server> operator_server;
  gateway::router operator_routes;
  std::uint16_t metrics_port = 0;
  if (!options.metrics_listen.empty()) {
    gateway::add_operator_routes(operator_routes);
    auto where = *config::parse_host_port(options.metrics_listen);
    // Plain HTTP even with --tls-cert: Prometheus scrapes it on a private network.
    gateway::http_server_options operator_options;
    operator_options.host = where.host;
    operator_options.port = where.port;
    operator_options.threads = 1;
    operator_options.body_limit = 64 * 1024;
    operator_options.max_connections = operator_connections;
    operator_options.listener = "metrics";
    operator_server = std::make_unique<gateway::http_server>(std::move(operator_options),
                                                             operator_routes);
    try {
      metrics_port = operator_server->start();
      spdlog::info("event=metrics_listening address=http://{}:{}/metrics", where.host,
                   metrics_port);
    } catch (const std::exception& e) {
      std::cerr << "diffplane: --metrics-listen: " << e.what() << "\n";
      caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
      return 1;
    }
  }
  gateway::http_server_options gateway_options;
  gateway_options.host = listen.host;
  gateway_options.port = listen.port;
  gateway_options.threads = http_threads;
  gateway_options.bridge = bridge.get();
  gateway_options.body_limit = options.body_limit_bytes;
  gateway_options.header_limit = options.header_limit_bytes;
  gateway_options.idle_timeout = std::chrono::seconds{options.idle_timeout_seconds};
  gateway_options.tls_cert_file = options.tls_cert;
  gateway_options.tls_key_file = options.tls_key;
  // The gateway and the native listener draw on one budget of file descriptors, and a
  // client address's count holds its connections to both.
  auto client_limits = std::make_shared<gateway::connection_limits>(
      max_connections, options.max_connections_per_address);
  gateway_options.shared_limits = client_limits;
  if (options.server_header)
    gateway_options.server_header = "diffplane/" + config::version();
  gateway::http_server server{std::move(gateway_options), routes};
  std::uint16_t port = 0;
  try {
    port = server.start();
  } catch (const std::exception& e) {
    std::cerr << "diffplane: " << e.what() << "\n";
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    return 1;
  }
  if (port != listen.port) {
    auto host = listen.host.find(':') != std::string::npos ? "[" + listen.host + "]"
                                                           : listen.host;
    try {
      record_http_address(urls.membership, identity.id,
                          host + ":" + std::to_string(port));
    } catch (const std::exception& e) {
      // Only the nodes view shows it: not a reason to stop serving.
      spdlog::warn("event=http_address_not_recorded reason=\"{}\"", e.what());
    }
  }
  std::unique_ptr<native::native_server> native_server;
  // Declared after both servers, so destroyed before them on every return: the bridge's
  // pending answers hold sessions of both, which must go while their io_contexts exist.
  reset_on_return bridge_guard{bridge};
  std::uint16_t native_port = 0;
  if (!options.native_listen.empty()) {
    auto where = *config::parse_host_port(options.native_listen);
    native::native_server_options native_options;
    native_options.host = where.host;
    native_options.port = where.port;
    native_options.max_frame = options.body_limit_bytes + 4096;
    native_options.max_outbox_bytes = 16 * native_options.max_frame;
    native_options.max_waiting_calls = options.max_parked_polls_per_cluster;
    native_options.tls_cert_file = options.tls_cert;
    native_options.tls_key_file = options.tls_key;
    native_options.limits = client_limits;
    native_server = std::make_unique<native::native_server>(native_options, *bridge);
    try {
      native_port = native_server->start();
      spdlog::info("event=native_listening address={}:{} tls={}", where.host, native_port,
                   !options.tls_cert.empty());
    } catch (const std::exception& e) {
      std::cerr << "diffplane: --native-listen: " << e.what() << "\n";
      caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
      return 1;
    }
  }
  // Written once both ports listen: whoever reads it may connect at once.
  if (!options.port_file.empty()) {
    try {
      write_port_file(options.port_file, port, metrics_port, native_port);
    } catch (const std::exception& e) {
      std::cerr << "diffplane: --port-file: " << e.what() << "\n";
      caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
      return 1;
    }
  }
  auto shown_host = listen.host == "0.0.0.0" ? std::string{"127.0.0.1"}
                    : listen.host.find(':') != std::string::npos ? "[" + listen.host + "]"
                                                                 : listen.host;
  auto scheme = options.tls_cert.empty() ? "http://" : "https://";
  auto endpoint = scheme + shown_host + ":" + std::to_string(port);
  spdlog::info("event=listening address={} http_threads={} actor_threads={} "
               "max_connections={} max_connections_per_address={}",
               endpoint, http_threads, actor_threads, max_connections,
               options.max_connections_per_address);
  if (options.console)
    spdlog::info("event=console_served address={}/console", endpoint);
  if (options.dev)
    std::cout << dev_banner(endpoint, options.management_secret, dev_cluster.id,
                            dev_cluster.api_secret,
                            embedded ? "psql \"" + embedded->connection_url() + "\""
                                     : std::string{"(external)"},
                            options.data_dir)
              << std::flush;

  auto signal_number = wait_for_shutdown_signal(signals);
  spdlog::info("event=shutdown_started signal={}", signal_number);
  server.stop_accepting();
  // Native workers' jobs stall now and are retried elsewhere after the restart.
  if (native_server)
    native_server->stop();
  bridge->release_long_polls();
  if (!server.drain(drain_timeout))
    spdlog::warn("event=shutdown_drain_timeout in_flight={}", server.in_flight());
  server.stop();
  if (operator_server)
    operator_server->stop();
  try {
    await<done_atom>(self, node, std::chrono::seconds{30}, stop_atom::value);
  } catch (const std::exception& e) {
    spdlog::error("event=shutdown_flush_failed reason=\"{}\"", e.what());
  }
  bridge.reset();
  spdlog::info("event=shutdown_complete");
  return 0;
}

} // namespace diffplane::cli
