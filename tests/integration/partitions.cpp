#define CAF_SUITE partitions

#include "http_test_helpers.hpp"
#include "network_namespaces.hpp"

#include "actors/ownership.hpp"

#include <caf/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <future>
#include <map>
#include <set>
#include <thread>

// Real network partitions between nodes, and between a node and Postgres: each node
// runs in a network namespace of its own on a bridge, Postgres listens on the bridge,
// and blackhole routes cut the links. No CAF_REQUIRE here: it aborts the binary, and the
// namespaces, the bridge and the Postgres would outlive it until the next run.

using namespace diffplane;
using namespace diffplane::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr auto lease_ttl = 1500ms;
/// The CAF port of every node: each has a network namespace of its own.
constexpr auto caf_port = "4100";
/// What a request for a cluster served across a partition may take: the forwarder's
/// budget (25 s), and some slack.
constexpr auto forward_limit = 28s;
/// What it takes when the owner is alive but unreachable: the forwarder tries for two
/// lease TTLs and one try more (2 s), then answers 503 (about 5 s), with slack.
constexpr auto unreachable_owner_limit = 2 * lease_ttl + 8s;

using clock_type = std::chrono::steady_clock;

std::chrono::milliseconds since(clock_type::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
}

struct cluster {
  std::string id;
  std::string secret;
};

/// The outcome of one create: its status (0 when no answer came in time) and the job
/// id of a 201.
struct create_outcome {
  unsigned status = 0;
  std::string job_id;
  std::chrono::milliseconds took{0};
};

const std::vector<std::pair<std::string, std::string>> management_headers{
    {"Authorization", "Basic " + test_management_secret}};

/// Nodes in namespaces of their own, on a Postgres of this test's own on the bridge.
struct fixture {
  std::optional<std::string> skip_reason = namespace_network::unavailable();
  std::unique_ptr<namespace_network> network;
  std::unique_ptr<address_postgres> postgres;
  std::string url;
  std::vector<std::string> labels;
  // Last: the servers stop before their namespaces and their database go.
  std::map<std::string, std::unique_ptr<server_process>> nodes;
  int created_clusters = 0;
  /// One cluster preferring each node, in the order of the labels.
  std::vector<cluster> clusters;
  /// The ids of every job a node acknowledged with 201.
  std::vector<std::string> acknowledged;

  /// True, with a visible message ctest turns into "skipped", when this host cannot make
  /// network namespaces; otherwise makes one per label, and the database.
  bool skipped(std::vector<std::string> namespace_labels) {
    if (skip_reason) {
      CAF_MESSAGE("partition tests skipped: " << *skip_reason);
      return true;
    }
    labels = std::move(namespace_labels);
    network = std::make_unique<namespace_network>(labels);
    postgres = std::make_unique<address_postgres>(network->service_address());
    url = postgres->create_database();
    return false;
  }

  static std::string node_id(const std::string& label) { return "node-" + label; }

  std::vector<std::string> node_ids() const {
    std::vector<std::string> ids;
    for (const auto& label : labels)
      ids.push_back(node_id(label));
    return ids;
  }

  server_process& start(const std::string& label) {
    auto address = network->address(label);
    auto args =
        server_args(url, {"--node-id", node_id(label), "--lease-ttl-ms",
                          std::to_string(lease_ttl.count()), "--node-heartbeat-ms", "250",
                          "--caf-host", address, "--caf-port", caf_port});
    auto& slot = nodes[label];
    slot =
        std::make_unique<server_process>(std::move(args), std::vector<std::string>{},
                                         server_location{network->netns(label), address});
    return *slot;
  }

  void start_all() {
    for (const auto& label : labels)
      start(label);
  }

  server_process& node(const std::string& label) { return *nodes.at(label); }

  std::optional<cluster> create_cluster(server_process& on) {
    auto description = "cluster-" + std::to_string(++created_clusters);
    auto client = on.client();
    auto created =
        client.request("POST", "/clusters", json{{"description", description}}.dump(),
                       management_headers);
    CAF_CHECK_EQUAL(created.status, 204u);
    for (auto& c :
         parse_json(client.request("GET", "/clusters", {}, management_headers).body))
      if (c["description"] == description)
        return cluster{c["id"].get<std::string>(), c["apiSecret"].get<std::string>()};
    return std::nullopt;
  }

  /// A cluster whose preferred owner among all nodes is the node of `label`.
  std::optional<cluster> create_cluster_preferring(const std::string& label) {
    for (int attempt = 0; attempt < 64; ++attempt) {
      auto c = create_cluster(node(label));
      if (c && ownership::preferred_owner(node_ids(), c->id) == node_id(label))
        return c;
    }
    return std::nullopt;
  }

  /// Makes a namespace per label, starts a node in each and a cluster preferring each,
  /// and waits until every node serves every cluster. False when the test is skipped or
  /// this failed (a failed check says why).
  bool serving(std::vector<std::string> namespace_labels) {
    auto started = clock_type::now();
    if (skipped(std::move(namespace_labels)))
      return false;
    CAF_MESSAGE("network and database made in " << since(started).count() << " ms");
    start_all();
    CAF_MESSAGE("nodes started after " << since(started).count() << " ms");
    for (const auto& label : labels) {
      auto c = create_cluster_preferring(label);
      CAF_CHECK(c.has_value());
      if (!c)
        return false;
      clusters.push_back(*c);
    }
    CAF_MESSAGE("clusters made after " << since(started).count() << " ms");
    std::chrono::milliseconds took{0};
    auto all = all_serve_all(30s, took);
    CAF_CHECK(all);
    CAF_MESSAGE("every node serves every cluster after " << since(started).count()
                                                         << " ms");
    return all;
  }

  /// A create with an SDK-like body; status 0 when no answer came within `timeout`.
  static create_outcome create_job(const server_process& on, const cluster& c,
                                   std::chrono::milliseconds timeout = 5s) {
    json body{{"service", "svc"},
              {"targetFn", "f"},
              {"targetArgs", "kA=="},
              {"callConfig",
               {{"retryCountOnStall", 1},
                {"predictiveRetriesOnRejection", false},
                {"timeoutSeconds", 300}}}};
    create_outcome outcome;
    auto started = clock_type::now();
    try {
      auto reply = on.client(timeout).request("POST", "/jobs", body.dump(),
                                              {{"Authorization", "Basic " + c.secret}});
      outcome.status = reply.status;
      if (reply.status == 201)
        outcome.job_id = parse_json(reply.body)["id"].get<std::string>();
    } catch (const std::exception&) {
      outcome.status = 0;
    }
    outcome.took = since(started);
    return outcome;
  }

  /// How long until `on` accepts a create of `c`; nullopt when not within `limit`. The
  /// jobs it acknowledged are added to `acknowledged`.
  std::optional<std::chrono::milliseconds>
  wait_until_served(const server_process& on, const cluster& c,
                    std::chrono::milliseconds limit) {
    auto started = clock_type::now();
    while (clock_type::now() - started < limit) {
      auto outcome = create_job(on, c, 3s);
      if (outcome.status == 201) {
        acknowledged.push_back(outcome.job_id);
        return since(started);
      }
      std::this_thread::sleep_for(50ms);
    }
    return std::nullopt;
  }

  /// Whether every node accepts creates of every cluster within `limit`; the longest
  /// wait goes to `longest`.
  bool all_serve_all(std::chrono::milliseconds limit,
                     std::chrono::milliseconds& longest) {
    auto started = clock_type::now();
    for (const auto& label : labels)
      for (const auto& c : clusters) {
        auto left = limit - since(started);
        if (!wait_until_served(node(label), c, std::max(left, 1ms))) {
          CAF_MESSAGE(node_id(label) << " does not serve " << c.id);
          return false;
        }
      }
    longest = since(started);
    return true;
  }

  std::set<std::string> jobs_in_database(const cluster& c) {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    std::set<std::string> ids;
    for (const auto& row :
         txn.exec_params("SELECT id FROM jobs WHERE cluster_id = $1", c.id))
      ids.insert(row[0].as<std::string>());
    return ids;
  }

  /// Checks that every acknowledged job is stored.
  void check_acknowledged_stored() {
    std::set<std::string> stored;
    for (const auto& c : clusters)
      for (const auto& id : jobs_in_database(c))
        stored.insert(id);
    std::size_t missing = 0;
    for (const auto& id : acknowledged)
      if (stored.count(id) == 0) {
        ++missing;
        CAF_MESSAGE("acknowledged but not stored: " << id);
      }
    CAF_CHECK_EQUAL(missing, 0u);
    CAF_MESSAGE(acknowledged.size()
                << " acknowledged jobs, " << stored.size() << " stored");
  }

  /// Checks that no two nodes held the lease of one cluster at once (an epoch that had
  /// not ended when the next began, on another node). A node that lost a lease by its
  /// own clock and took it again before the old epoch expired overlaps itself only: that
  /// is reported, not failed.
  void check_lease_history() {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    auto overlaps = txn.exec(
        "SELECT a.cluster_id, a.epoch, a.node_id, b.node_id FROM lease_history a "
        "JOIN lease_history b ON a.cluster_id = b.cluster_id AND b.epoch = a.epoch + 1 "
        "WHERE a.ended_at IS NULL OR a.ended_at > b.acquired_at");
    std::size_t across_nodes = 0;
    for (const auto& row : overlaps)
      if (row[2].as<std::string>() != row[3].as<std::string>()) {
        ++across_nodes;
        CAF_MESSAGE("epoch " << row[1].as<std::string>() << " of cluster "
                             << row[0].as<std::string>() << " on "
                             << row[2].as<std::string>() << " overlaps the next on "
                             << row[3].as<std::string>());
      }
    CAF_CHECK_EQUAL(across_nodes, 0u);
    if (overlaps.size() > across_nodes)
      CAF_MESSAGE(overlaps.size() - across_nodes
                  << " leases taken again by their own node before their epoch ended");
  }

  /// What the database's sessions of this test are doing, for a failure's message: who
  /// is in a transaction, waiting, and for how long.
  std::string database_sessions() {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    std::string text;
    for (const auto& row :
         txn.exec("SELECT pid, host(client_addr), state, coalesce(wait_event_type, ''), "
                  "round(extract(epoch FROM now() - xact_start) * 1000), "
                  "pg_blocking_pids(pid)::text, left(regexp_replace(query, '\\s+', ' ', "
                  "'g'), 90) "
                  "FROM pg_stat_activity WHERE datname = current_database() "
                  "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL ORDER BY "
                  "xact_start"))
      text += "  pid " + row[0].as<std::string>() + " from " + row[1].c_str() + ": " +
              row[2].c_str() + " " + row[3].c_str() + ", in a transaction for " +
              row[4].c_str() + " ms, blocked by " + row[5].c_str() + ": " +
              row[6].c_str() + "\n";
    return text;
  }

  /// The node holding the lease of `c` now, by the database.
  std::string lease_holder(const cluster& c) {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    auto rows =
        txn.exec_params("SELECT node_id FROM cluster_leases WHERE cluster_id = $1", c.id);
    return rows.empty() || rows[0][0].is_null() ? std::string{}
                                                : rows[0][0].as<std::string>();
  }

  /// How long until the lease of `c` is on the node of `label`; nullopt when not within
  /// `limit`.
  std::optional<std::chrono::milliseconds>
  wait_until_held(const cluster& c, const std::string& label,
                  std::chrono::milliseconds limit) {
    auto started = clock_type::now();
    while (since(started) < limit) {
      if (lease_holder(c) == node_id(label))
        return since(started);
      std::this_thread::sleep_for(100ms);
    }
    return std::nullopt;
  }

  /// Whether GET /nodes on `on` shows every node holding some cluster, within `limit`.
  std::optional<std::chrono::milliseconds>
  wait_until_spread(const server_process& on, std::chrono::milliseconds limit) {
    auto started = clock_type::now();
    while (since(started) < limit) {
      try {
        auto reply = on.client(3s).request("GET", "/nodes", {}, management_headers);
        if (reply.status == 200) {
          auto view = parse_json(reply.body);
          std::size_t holding = 0;
          for (const auto& n : view["nodes"])
            if (!n["clusters"].empty())
              ++holding;
          if (holding == labels.size() && view["nodes"].size() == labels.size())
            return since(started);
        }
      } catch (const std::exception&) {
        // not answering now
      }
      std::this_thread::sleep_for(100ms);
    }
    return std::nullopt;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(partition_tests, fixture)

CAF_TEST(
    nodes cut from each other keep their clusters and fail forwards in bounded time) {
  if (!serving({"a", "b"}))
    return;
  const auto& ca = clusters[0];
  const auto& cb = clusters[1];
  CAF_CHECK_EQUAL(lease_holder(ca), "node-a");
  CAF_CHECK_EQUAL(lease_holder(cb), "node-b");

  network->separate("a", "b");
  auto partitioned = clock_type::now();
  // The requests across the partition, both ways at once: each fails once the owner
  // stayed silent for a lease TTL, well within the forwarder's budget.
  auto across_ab = std::async(
      std::launch::async, [&] { return create_job(node("a"), cb, forward_limit + 10s); });
  auto across_ba = std::async(
      std::launch::async, [&] { return create_job(node("b"), ca, forward_limit + 10s); });
  // Meanwhile each node keeps serving its own cluster, through several lease TTLs.
  int own_served = 0;
  int own_tries = 0;
  while (across_ab.wait_for(0s) != std::future_status::ready ||
         across_ba.wait_for(0s) != std::future_status::ready) {
    for (auto [label, c] : {std::pair{"a", &ca}, std::pair{"b", &cb}}) {
      auto outcome = create_job(node(label), *c, 5s);
      ++own_tries;
      if (outcome.status == 201) {
        ++own_served;
        acknowledged.push_back(outcome.job_id);
      }
      if (outcome.status != 201 || outcome.took > 1s)
        CAF_MESSAGE(node_id(label)
                    << " answered a create of its own cluster "
                    << since(partitioned).count() << " ms into the partition with status "
                    << outcome.status << " after " << outcome.took.count() << " ms");
    }
    std::this_thread::sleep_for(200ms);
  }
  CAF_CHECK_EQUAL(own_served, own_tries);
  for (auto* across : {&across_ab, &across_ba}) {
    auto outcome = across->get();
    CAF_MESSAGE("a request across the partition: status "
                << outcome.status << " after " << outcome.took.count() << " ms");
    CAF_CHECK_EQUAL(outcome.status, 503u);
    CAF_CHECK_LESS(outcome.took, unreachable_owner_limit);
    if (outcome.status == 201)
      acknowledged.push_back(outcome.job_id);
  }
  // Neither lost its lease: both were on the database all along.
  CAF_CHECK_EQUAL(lease_holder(ca), "node-a");
  CAF_CHECK_EQUAL(lease_holder(cb), "node-b");
  check_lease_history();

  network->heal_all();
  std::chrono::milliseconds took{0};
  CAF_CHECK(all_serve_all(30s, took));
  CAF_MESSAGE("after healing, both nodes serve both clusters within " << took.count()
                                                                      << " ms");
  check_acknowledged_stored();
  check_lease_history();
}

CAF_TEST(
    a node cut from the database loses its clusters and acknowledges only stored jobs) {
  if (!serving({"a", "b"}))
    return;
  const auto& ca = clusters[0];
  CAF_CHECK_EQUAL(lease_holder(ca), "node-a");

  // Creates of node-a's cluster through node-a all along, from before the cut until
  // node-b serves the cluster and a few lease TTLs more: the cut comes while node-a
  // writes, and whatever node-a acknowledges must be stored.
  std::atomic<bool> stop{false};
  auto through_a = std::async(std::launch::async, [&] {
    std::vector<create_outcome> outcomes;
    while (!stop)
      outcomes.push_back(create_job(node("a"), ca, 3s));
    return outcomes;
  });
  std::this_thread::sleep_for(500ms);
  network->cut("a", network->service_address());
  auto cut = clock_type::now();
  auto takeover = wait_until_served(node("b"), ca, 10 * lease_ttl);
  CAF_CHECK(takeover.has_value());
  if (!takeover)
    CAF_MESSAGE(
        "node-b did not take node-a's cluster over; the sessions in a transaction:\n"
        << database_sessions() << "node-b's log:\n"
        << node("b").log());
  if (takeover)
    CAF_MESSAGE("node-b serves node-a's cluster " << takeover->count()
                                                  << " ms after node-a was cut from the "
                                                     "database (lease TTL "
                                                  << lease_ttl.count() << " ms)");
  CAF_CHECK_LESS(since(cut), 4 * lease_ttl);
  std::this_thread::sleep_for(3 * lease_ttl);
  stop = true;
  // Status, count and longest time of node-a's answers.
  std::map<unsigned, std::pair<int, std::chrono::milliseconds>> statuses;
  for (const auto& outcome : through_a.get()) {
    auto& [count, longest] = statuses[outcome.status];
    ++count;
    longest = std::max(longest, outcome.took);
    if (outcome.status == 201)
      acknowledged.push_back(outcome.job_id);
  }
  for (const auto& [status, seen] : statuses)
    CAF_MESSAGE("node-a's answers to creates during the cut: "
                << seen.first << " x "
                << (status == 0 ? std::string{"none within 3 s"} : std::to_string(status))
                << ", the longest after " << seen.second.count() << " ms");
  check_acknowledged_stored();
  check_lease_history();

  network->heal_all();
  auto rejoined = wait_until_spread(node("b"), 30s);
  CAF_CHECK(rejoined.has_value());
  if (rejoined)
    CAF_MESSAGE("after healing, both nodes hold clusters again within "
                << rejoined->count() << " ms");
  std::chrono::milliseconds took{0};
  CAF_CHECK(all_serve_all(20s, took));
  // node-a is the cluster's preferred owner again: it gets it back by hand-off, one
  // cluster per heartbeat.
  auto back = wait_until_held(ca, "a", 20s);
  CAF_CHECK(back.has_value());
  if (back)
    CAF_MESSAGE("node-a's cluster is back on node-a " << back->count() << " ms later");
  check_acknowledged_stored();
  check_lease_history();
}

CAF_TEST(a node cut from both others but not the database keeps its own cluster) {
  if (!serving({"a", "b", "c"}))
    return;

  network->separate("c", "a");
  network->separate("c", "b");
  // Several lease TTLs: node-c still heartbeats through the database, so it stays a
  // member and keeps its cluster; node-a and node-b still forward to each other.
  std::this_thread::sleep_for(3 * lease_ttl);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    auto outcome = create_job(node(labels[i]), clusters[i], 5s);
    CAF_CHECK_EQUAL(outcome.status, 201u);
    if (outcome.status == 201)
      acknowledged.push_back(outcome.job_id);
    CAF_CHECK_EQUAL(lease_holder(clusters[i]), node_id(labels[i]));
  }
  for (auto [from, to] : {std::pair{"a", 1}, std::pair{"b", 0}}) {
    auto outcome = create_job(node(from), clusters[to], 5s);
    CAF_CHECK_EQUAL(outcome.status, 201u);
    if (outcome.status == 201)
      acknowledged.push_back(outcome.job_id);
  }
  check_lease_history();

  network->heal_all();
  std::chrono::milliseconds took{0};
  CAF_CHECK(all_serve_all(30s, took));
  CAF_MESSAGE("after healing, all three nodes serve all clusters within " << took.count()
                                                                          << " ms");
  check_acknowledged_stored();
  check_lease_history();
}

CAF_TEST_FIXTURE_SCOPE_END()
