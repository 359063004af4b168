#define CAF_SUITE many_nodes

#include "http_test_helpers.hpp"

#include "actors/ownership.hpp"

#include <caf/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <map>
#include <set>
#include <thread>

using namespace diffplane;
using namespace diffplane::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr auto lease_ttl = 1500ms;
/// How long a SIGTERMed node may take to exit: its drain finds no request in flight at
/// the end of a case, so this is the flush of its writes and the end of its leases.
constexpr auto graceful_stop_limit = 10s;

/// A TCP port of 127.0.0.1 free a moment ago (the CAF port has no "any free port").
std::uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

struct cluster {
  std::string id;
  std::string secret;
};

/// Several server processes on one database, with short leases.
struct fixture {
  std::string url = create_test_database();
  std::map<std::string, std::unique_ptr<server_process>> nodes;
  int created_clusters = 0;

  /// Each node still running must leave soon after SIGTERM (the last started first): one
  /// that hangs after shutdown_complete has an actor that nothing ends.
  ~fixture() {
    for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
      if (!it->second || it->second->pid() <= 0)
        continue;
      auto started = std::chrono::steady_clock::now();
      auto code = it->second->stop(graceful_stop_limit);
      auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started);
      if (code != 0)
        CAF_MESSAGE(it->first << " did not exit within " << graceful_stop_limit.count()
                              << " s of SIGTERM (exit code " << code << ", "
                              << took.count() << " ms)");
      CAF_CHECK_EQUAL(code, 0);
    }
  }

  server_process& start(const std::string& node_id) {
    auto args = server_args(
        url, {"--node-id", node_id, "--lease-ttl-ms", std::to_string(lease_ttl.count()),
              "--node-heartbeat-ms", "250", "--caf-port", std::to_string(free_port())});
    auto& slot = nodes[node_id];
    slot = std::make_unique<server_process>(std::move(args));
    return *slot;
  }

  cluster create_cluster(server_process& on) {
    auto description = "cluster-" + std::to_string(++created_clusters);
    auto headers = std::vector<std::pair<std::string, std::string>>{
        {"Authorization", "Basic " + test_management_secret}};
    auto client = on.client();
    CAF_REQUIRE_EQUAL(client
                          .request("POST", "/clusters",
                                   json{{"description", description}}.dump(), headers)
                          .status,
                      204u);
    for (auto& c : parse_json(client.request("GET", "/clusters", {}, headers).body))
      if (c["description"] == description)
        return cluster{c["id"].get<std::string>(), c["apiSecret"].get<std::string>()};
    CAF_FAIL("the new cluster is not listed");
    return {};
  }

  /// A cluster whose preferred owner among `node_ids` is `owner`, created through
  /// `through` (default: the owner).
  cluster create_cluster_preferring(const std::string& owner,
                                    const std::vector<std::string>& node_ids,
                                    const std::string& through = {}) {
    for (int attempt = 0; attempt < 64; ++attempt) {
      auto c = create_cluster(*nodes.at(through.empty() ? owner : through));
      if (ownership::preferred_owner(node_ids, c.id) == owner)
        return c;
    }
    CAF_FAIL("no cluster preferred " << owner);
    return {};
  }

  /// A create as the SDK sends it; status 0 and the reason as its body when no answer
  /// came in time. Safe on any thread (no test macro).
  static cli::http_reply try_create(server_process& on, const cluster& c,
                                    std::chrono::milliseconds timeout) {
    json body{{"service", "svc"},
              {"targetFn", "f"},
              {"targetArgs", "kA=="},
              {"callConfig",
               {{"retryCountOnStall", 1},
                {"predictiveRetriesOnRejection", false},
                {"timeoutSeconds", 300}}}};
    try {
      return on.client(timeout).request("POST", "/jobs", body.dump(),
                                        {{"Authorization", "Basic " + c.secret}});
    } catch (const std::runtime_error& e) {
      cli::http_reply unanswered;
      unanswered.status = 0;
      unanswered.body = e.what();
      return unanswered;
    }
  }

  cli::http_reply create_job(server_process& on, const cluster& c,
                             std::chrono::milliseconds timeout = 5s) {
    auto reply = try_create(on, c, timeout);
    // No answer in time: like any unacknowledged create, it may still be stored.
    if (reply.status == 0)
      CAF_MESSAGE("no answer to a create: " << reply.body);
    return reply;
  }

  /// Checks that every acknowledged job is stored, and that the stored jobs nobody
  /// acknowledged are at most as many as the creates answered otherwise (a create
  /// tried again by a forwarder after its answer was lost is stored once, unanswered).
  void check_stored(const std::set<std::string>& stored,
                    const std::vector<std::string>& acknowledged) {
    std::set<std::string> acked{acknowledged.begin(), acknowledged.end()};
    for (const auto& id : acked)
      CAF_CHECK(stored.count(id) == 1);
    CAF_CHECK_LESS_OR_EQUAL(stored.size(), acked.size() + not_acknowledged);
  }

  /// Creates answered with anything but 201 (or not at all).
  std::size_t not_acknowledged = 0;

  /// How long until `on` accepts creates of `c`; nullopt when not within `limit`. The
  /// jobs it acknowledged are added to `acknowledged`.
  std::optional<std::chrono::milliseconds>
  wait_until_served(server_process& on, const cluster& c, std::chrono::milliseconds limit,
                    std::vector<std::string>& acknowledged) {
    auto started = std::chrono::steady_clock::now();
    cli::http_reply reply;
    while (std::chrono::steady_clock::now() - started < limit) {
      reply = create_job(on, c);
      if (reply.status == 201) {
        acknowledged.push_back(parse_json(reply.body)["id"].get<std::string>());
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started);
      }
      ++not_acknowledged;
      if (reply.status != 503 && reply.status != 0)
        CAF_MESSAGE("unexpected answer: " << reply.status << " " << reply.body);
      CAF_CHECK(reply.status == 503 || reply.status == 0);
      std::this_thread::sleep_for(20ms);
    }
    CAF_MESSAGE("cluster " << c.id << " not served within " << limit.count()
                           << " ms; the last answer: " << reply.status << " "
                           << reply.body);
    return std::nullopt;
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

  /// The node holding an unexpired lease of `c`; empty if none.
  std::string owner_in_database(const cluster& c) {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    auto rows =
        txn.exec_params("SELECT node_id FROM cluster_leases WHERE cluster_id = $1 "
                        "AND expires_at > now()",
                        c.id);
    return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
  }

  /// The status and attempts used of job `id`.
  std::pair<std::string, int> job_row(const std::string& id) {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    auto row =
        txn.exec_params1("SELECT status, attempts_used FROM jobs WHERE id = $1", id);
    return {row[0].as<std::string>(), row[1].as<int>()};
  }

  /// Checks that no two acquisitions of one cluster overlapped in time.
  void check_lease_history() {
    pqxx::connection connection{url};
    pqxx::work txn{connection};
    auto overlaps =
        txn.exec("SELECT a.cluster_id, a.epoch FROM lease_history a JOIN lease_history b "
                 "ON a.cluster_id = b.cluster_id AND b.epoch = a.epoch + 1 "
                 "WHERE a.ended_at IS NULL OR a.ended_at > b.acquired_at");
    CAF_CHECK_EQUAL(overlaps.size(), 0u);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(many_nodes_tests, fixture)

CAF_TEST(two nodes share one database and either accepts every cluster) {
  auto& a = start("node-a");
  std::vector<cluster> clusters;
  for (int i = 0; i < 10; ++i)
    clusters.push_back(create_cluster(a));
  auto& b = start("node-b");
  std::vector<std::string> acknowledged;
  // Each node serves some clusters and forwards the requests of the others, during the
  // hand-offs to node-b as after them.
  for (int round = 0; round < 3; ++round) {
    for (const auto& c : clusters) {
      CAF_CHECK(wait_until_served(a, c, 20s, acknowledged).has_value());
      CAF_CHECK(wait_until_served(b, c, 20s, acknowledged).has_value());
    }
    std::this_thread::sleep_for(1s);
  }
  std::set<std::string> stored;
  for (const auto& c : clusters)
    for (const auto& id : jobs_in_database(c))
      stored.insert(id);
  check_stored(stored, acknowledged);
  // Both nodes hold leases: the clusters spread.
  auto nodes_view =
      parse_json(a.client()
                     .request("GET", "/nodes", {},
                              {{"Authorization", "Basic " + test_management_secret}})
                     .body);
  CAF_REQUIRE_EQUAL(nodes_view["nodes"].size(), 2u);
  for (const auto& node : nodes_view["nodes"]) {
    CAF_CHECK_GREATER(node["clusters"].size(), 0u);
    // The bound address, not the configured 127.0.0.1:0.
    auto shown = "http://" + node["httpAddress"].get<std::string>();
    auto& endpoint = nodes.at(node["id"].get<std::string>())->endpoint();
    CAF_CHECK_EQUAL(shown, endpoint);
  }
  CAF_CHECK_EQUAL(nodes_view["leases"].size(), clusters.size());
  check_lease_history();
}

CAF_TEST(the clusters of a killed node are served by a survivor within the lease TTL) {
  auto& a = start("node-a");
  auto& b = start("node-b");
  auto c = create_cluster_preferring("node-a", {"node-a", "node-b"});
  std::vector<std::string> acknowledged;
  CAF_REQUIRE(wait_until_served(a, c, 10s, acknowledged).has_value());
  for (int i = 0; i < 20; ++i) {
    auto reply = create_job(a, c);
    CAF_REQUIRE_EQUAL(reply.status, 201u);
    acknowledged.push_back(parse_json(reply.body)["id"].get<std::string>());
  }
  a.kill();
  auto took = wait_until_served(b, c, 10s, acknowledged);
  CAF_REQUIRE(took.has_value());
  CAF_MESSAGE("takeover after kill -9: " << took->count() << " ms (lease TTL "
                                         << lease_ttl.count() << " ms)");
  CAF_CHECK_LESS_OR_EQUAL(*took, lease_ttl + 1s);
  auto stored = jobs_in_database(c);
  for (const auto& id : acknowledged)
    CAF_CHECK(stored.count(id) == 1);
  check_lease_history();
}

CAF_TEST(a frozen node serves and writes nothing after another took its clusters) {
  auto& a = start("node-a");
  auto& b = start("node-b");
  auto c = create_cluster_preferring("node-a", {"node-a", "node-b"});
  std::vector<std::string> acknowledged;
  CAF_REQUIRE(wait_until_served(a, c, 10s, acknowledged).has_value());
  kill(a.pid(), SIGSTOP);
  auto took = wait_until_served(b, c, 10s, acknowledged);
  CAF_REQUIRE(took.has_value());
  CAF_MESSAGE("takeover from a frozen node: " << took->count() << " ms");
  kill(a.pid(), SIGCONT);
  // On waking, the node stops the cluster by its own clock or has its writes fenced by
  // the database, and forwards to the new owner: whatever it acknowledges is stored,
  // and nothing else.
  for (int i = 0; i < 5; ++i) {
    // As long as the gateway may take: a forwarded try into the connection that died
    // with the freeze waits for its own limit before the next one goes elsewhere.
    auto reply = create_job(a, c, 35s);
    if (reply.status == 201) {
      acknowledged.push_back(parse_json(reply.body)["id"].get<std::string>());
    } else {
      ++not_acknowledged;
      if (reply.status != 503)
        CAF_MESSAGE("unexpected answer: " << reply.status << " " << reply.body);
      CAF_CHECK_EQUAL(reply.status, 503u);
    }
  }
  check_stored(jobs_in_database(c), acknowledged);
  check_lease_history();
  // A lease that ran out by the node's own clock says why (whether a round was in
  // flight, when the last one went): here the freeze held every round back.
  auto log = a.log();
  if (log.find("reason=\"not renewed in time\"") != std::string::npos)
    CAF_CHECK(log.find("event=lease_not_renewed") != std::string::npos);
  // Back in the membership, the node is the cluster's preferred owner again and gets it
  // back by hand-off, with a newer epoch.
  CAF_CHECK(wait_until_served(a, c, 20s, acknowledged).has_value());
  check_lease_history();
}

CAF_TEST(a job running at a hand - off keeps its attempt) {
  auto& a = start("node-a");
  auto c = create_cluster_preferring("node-b", {"node-a", "node-b"}, "node-a");
  auto created = create_job(a, c);
  CAF_REQUIRE_EQUAL(created.status, 201u);
  auto id = parse_json(created.body)["id"].get<std::string>();
  std::vector<std::pair<std::string, std::string>> worker{
      {"Authorization", "Basic " + c.secret}, {"x-machine-id", "m1"}};
  auto poll = a.client().request("POST", "/jobs-request",
                                 R"({"service":"svc","limit":1,"ttl":5000})", worker);
  CAF_REQUIRE_EQUAL(poll.status, 200u);
  CAF_REQUIRE_EQUAL(parse_json(poll.body).size(), 1u);
  // node-b joins and is the cluster's preferred owner: node-a hands the cluster over
  // while the worker runs the job.
  auto& b = start("node-b");
  std::vector<std::string> acknowledged;
  auto until = std::chrono::steady_clock::now() + 20s;
  while (owner_in_database(c) != "node-b" && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  CAF_REQUIRE_EQUAL(owner_in_database(c), "node-b");
  CAF_REQUIRE(wait_until_served(b, c, 20s, acknowledged).has_value());
  CAF_CHECK_EQUAL(job_row(id), std::make_pair(std::string{"running"}, 1));
  // The worker's result reaches the new owner (through the node it polled) and counts
  // for the attempt it ran: the hand-off cost the job nothing.
  auto posted =
      a.client().request("POST", "/jobs/" + id + "/result",
                         R"({"result":"oWs=","resultType":"resolution"})", worker);
  CAF_CHECK_EQUAL(posted.status, 204u);
  CAF_CHECK_EQUAL(job_row(id), std::make_pair(std::string{"success"}, 1));
  check_lease_history();
}

CAF_TEST(a fourth node joins under load and no call fails) {
  const std::vector<std::string> three{"node-a", "node-b", "node-c"};
  auto four = three;
  four.push_back("node-d");
  for (const auto& id : three)
    start(id);
  // Two clusters move to node-d when it joins; one stays where it is.
  std::vector<cluster> clusters;
  for (int i = 0; i < 2; ++i)
    clusters.push_back(create_cluster_preferring("node-d", four, "node-a"));
  for (int attempt = 0; clusters.size() < 3 && attempt < 64; ++attempt) {
    auto c = create_cluster(*nodes.at("node-b"));
    if (ownership::preferred_owner(four, c.id) != "node-d")
      clusters.push_back(c);
  }
  CAF_REQUIRE_EQUAL(clusters.size(), 3u);
  std::vector<std::string> acknowledged;
  for (const auto& c : clusters)
    CAF_REQUIRE(wait_until_served(*nodes.at("node-a"), c, 20s, acknowledged).has_value());

  // One caller per node, each with one create in flight at a time, over every cluster.
  struct caller_log {
    std::vector<std::string> acknowledged;
    std::vector<std::string> failures;
  };
  std::vector<caller_log> logs(three.size());
  std::atomic<bool> stop{false};
  std::vector<std::thread> callers;
  for (std::size_t t = 0; t < three.size(); ++t)
    callers.emplace_back([&, t] {
      auto& node = *nodes.at(three[t]);
      for (std::size_t n = 0; n < 5000 && !stop; ++n) {
        auto reply = try_create(node, clusters[n % clusters.size()], 35s);
        if (reply.status == 201)
          logs[t].acknowledged.push_back(parse_json(reply.body)["id"].get<std::string>());
        else
          logs[t].failures.push_back(std::to_string(reply.status) + " " + reply.body);
      }
    });
  std::this_thread::sleep_for(1s);
  auto& d = start("node-d");
  auto until = std::chrono::steady_clock::now() + 30s;
  auto moved = [&] {
    return owner_in_database(clusters[0]) == "node-d" &&
           owner_in_database(clusters[1]) == "node-d";
  };
  while (!moved() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(100ms);
  auto joined = moved();
  // Calls keep going a while after the hand-offs.
  std::this_thread::sleep_for(2s);
  stop = true;
  for (auto& caller : callers)
    caller.join();

  CAF_CHECK(joined);
  std::size_t calls = 0;
  for (const auto& log : logs) {
    calls += log.acknowledged.size() + log.failures.size();
    for (const auto& failure : log.failures)
      CAF_MESSAGE("a failed call: " << failure);
    CAF_CHECK(log.failures.empty());
    not_acknowledged += log.failures.size();
    acknowledged.insert(acknowledged.end(), log.acknowledged.begin(),
                        log.acknowledged.end());
  }
  CAF_MESSAGE(calls << " calls while node-d joined");
  CAF_CHECK_GREATER(calls, 0u);
  // node-d serves what it took; nothing acknowledged is missing.
  CAF_CHECK(wait_until_served(d, clusters[0], 10s, acknowledged).has_value());
  std::set<std::string> stored;
  for (const auto& c : clusters)
    for (const auto& id : jobs_in_database(c))
      stored.insert(id);
  check_stored(stored, acknowledged);
  check_lease_history();
}

CAF_TEST(a node restarted after a crash takes its clusters back at once) {
  auto& a = start("node-a");
  auto c = create_cluster(a);
  std::vector<std::string> acknowledged;
  CAF_REQUIRE(wait_until_served(a, c, 10s, acknowledged).has_value());
  a.kill();
  auto& again = start("node-a2");
  auto took = wait_until_served(again, c, 10s, acknowledged);
  CAF_REQUIRE(took.has_value());
  // The dead process of this host is retired at registration: no wait for the TTL.
  CAF_CHECK_LESS(*took, lease_ttl);
}

CAF_TEST(a node id in use by a live node is refused at start) {
  start("node-a");
  auto args = server_args(url, {"--node-id", "node-a"});
  args.insert(args.begin(), {"serve", "--listen", "127.0.0.1:0"});
  auto result = run_diffplane(args);
  CAF_CHECK_NOT_EQUAL(result.exit_code, 0);
  CAF_CHECK(result.output.find("node id node-a is taken by a live node") !=
            std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
