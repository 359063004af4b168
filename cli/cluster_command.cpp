#include "cli/cluster_command.hpp"

#include "cli/remote.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

namespace diffplane::cli {

namespace {

struct cluster_state {
  remote_options remote;
  std::string description;
  std::string cluster_id;
};

void print_clusters(const nlohmann::json& clusters, bool json) {
  if (json) {
    std::cout << clusters.dump(2) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : clusters)
    rows.push_back({cell(c["id"]), cell(c["apiSecret"]), cell(c["createdAt"]),
                    cell(c["description"])});
  print_table({"ID", "API SECRET", "CREATED", "DESCRIPTION"}, rows);
}

void create(const cluster_state& st) {
  auto client = client_of(st.remote);
  auto body = nlohmann::json{{"description", st.description}}.dump();
  auto reply =
      client.request("POST", "/clusters", body,
                     {{"Authorization", "Basic " + management_secret_of(st.remote)}});
  if (reply.status != 204)
    throw std::runtime_error("POST /clusters answered " + std::to_string(reply.status) +
                             ": " + reply.body);
  // The answer is 204 as in the original; the newest cluster so described is the new one.
  auto wanted =
      st.description.empty() ? nlohmann::json(nullptr) : nlohmann::json(st.description);
  nlohmann::json newest;
  for (const auto& c : get_json(st.remote, "/clusters"))
    if (c["description"] == wanted &&
        (newest.is_null() || c["createdAt"] >= newest["createdAt"]))
      newest = c;
  print_clusters(nlohmann::json::array({newest}), st.remote.json);
}

void info(const cluster_state& st) {
  auto details = get_json(st.remote, "/clusters/" + st.cluster_id);
  if (st.remote.json) {
    std::cout << details.dump(2) << "\n";
    return;
  }
  std::cout << "cluster  " << cell(details["id"]) << "\ncreated  "
            << cell(details["createdAt"]) << "\n\nservices\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : details["definitions"]) {
    std::string functions;
    for (const auto& f : d["functions"])
      functions += (functions.empty() ? "" : ", ") + cell(f["name"]);
    rows.push_back({cell(d["name"]), functions});
  }
  print_table({"SERVICE", "FUNCTIONS"}, rows);
  std::cout << "\nmachines\n";
  rows.clear();
  for (const auto& m : details["machines"])
    rows.push_back(
        {cell(m["id"]), cell(m["pool"]), cell(m["ip"]), cell(m["lastPingAt"])});
  print_table({"MACHINE", "SERVICE", "IP", "LAST PING"}, rows);
  std::cout << "\nlatest jobs\n";
  rows.clear();
  for (const auto& j : details["jobs"])
    rows.push_back({cell(j["id"]), cell(j["service"]), cell(j["targetFn"]),
                    cell(j["status"]), cell(j["resultType"]), cell(j["createdAt"])});
  print_table({"JOB", "SERVICE", "FUNCTION", "STATUS", "RESULT", "CREATED"}, rows);
}

} // namespace

void add_cluster_commands(CLI::App& app, int& exit_code) {
  auto st = std::make_shared<cluster_state>();
  auto* cluster =
      app.add_subcommand("cluster", "manage the clusters of a running server");
  cluster->require_subcommand(1);

  auto* create_cmd =
      cluster->add_subcommand("create", "create a cluster and print its API secret");
  create_cmd->add_option("--description", st->description,
                         "a description of the cluster");
  add_remote_options(*create_cmd, st->remote);
  create_cmd->callback(
      [st, &exit_code] { exit_code = run_remote(st->remote, [&] { create(*st); }); });

  auto* list_cmd = cluster->add_subcommand("list", "list the clusters");
  add_remote_options(*list_cmd, st->remote);
  list_cmd->callback([st, &exit_code] {
    exit_code = run_remote(st->remote, [&] {
      print_clusters(get_json(st->remote, "/clusters"), st->remote.json);
    });
  });

  auto* info_cmd =
      cluster->add_subcommand("info", "services, machines and latest jobs of a cluster");
  info_cmd->add_option("ID", st->cluster_id, "the cluster id")->required();
  add_remote_options(*info_cmd, st->remote);
  info_cmd->callback(
      [st, &exit_code] { exit_code = run_remote(st->remote, [&] { info(*st); }); });
}

} // namespace diffplane::cli
