#include "cli/cluster_command.hpp"

#include "cli/http_client.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace diffplane::cli {

namespace {

std::string resolve_management_secret(const remote_options& options) {
  if (!options.management_secret.empty())
    return options.management_secret;
  // A dev server keeps its generated secret in its data dir.
  std::ifstream in{std::filesystem::path{options.data_dir} / "management-secret"};
  std::string secret;
  std::getline(in, secret);
  return secret;
}

nlohmann::json get_clusters(http_client& client, const std::string& secret) {
  auto reply = client.request("GET", "/clusters", {}, {{"Authorization", "Basic " + secret}});
  if (reply.status != 200)
    throw std::runtime_error("GET /clusters answered " + std::to_string(reply.status) + ": " +
                             reply.body);
  return nlohmann::json::parse(reply.body);
}

void print_clusters(const nlohmann::json& clusters, bool json) {
  if (json) {
    std::cout << clusters.dump(2) << "\n";
    return;
  }
  std::printf("%-26s %-68s %-26s %s\n", "ID", "API SECRET", "CREATED", "DESCRIPTION");
  for (const auto& c : clusters)
    std::printf("%-26s %-68s %-26s %s\n", c["id"].get<std::string>().c_str(),
                c["apiSecret"].get<std::string>().c_str(),
                c["createdAt"].get<std::string>().c_str(),
                c["description"].is_string() ? c["description"].get<std::string>().c_str() : "");
}

} // namespace

void add_cluster_commands(CLI::App& app, remote_options& options, std::string& description) {
  auto* cluster = app.add_subcommand("cluster", "manage the clusters of a running server");
  cluster->require_subcommand(1);
  auto common = [&options](CLI::App* command) {
    command->add_option("--endpoint", options.endpoint, "the server's HTTP endpoint")
      ->envname("DIFFPLANE_ENDPOINT")
      ->capture_default_str();
    command
      ->add_option("--management-secret", options.management_secret,
                   "management secret (default: the dev server's, from --data-dir)")
      ->envname("MANAGEMENT_SECRET");
    command->add_option("--data-dir", options.data_dir, "data dir of a dev server")
      ->envname("DIFFPLANE_DATA_DIR")
      ->capture_default_str();
    command->add_flag("--json", options.json, "print JSON instead of a table");
  };
  auto* create = cluster->add_subcommand("create", "create a cluster and print its API secret");
  create->add_option("--description", description, "a description of the cluster");
  common(create);
  auto* list = cluster->add_subcommand("list", "list the clusters");
  common(list);
}

int run_cluster_command(const CLI::App& cluster_app, remote_options options,
                        const std::string& description) {
  auto secret = resolve_management_secret(options);
  if (secret.empty()) {
    std::cerr << "diffplane: no management secret: pass --management-secret or set "
                 "MANAGEMENT_SECRET\n";
    return 2;
  }
  try {
    http_client client{options.endpoint};
    if (cluster_app.got_subcommand("create")) {
      auto body = nlohmann::json{{"description", description}}.dump();
      auto reply = client.request("POST", "/clusters", body,
                                  {{"Authorization", "Basic " + secret}});
      if (reply.status != 204) {
        std::cerr << "diffplane: POST /clusters answered " << reply.status << ": "
                  << reply.body << "\n";
        return 1;
      }
      // The answer is 204 as in the original; the newest cluster is the one just made.
      auto clusters = get_clusters(client, secret);
      nlohmann::json newest;
      for (const auto& c : clusters)
        if (c["description"] == (description.empty() ? nlohmann::json(nullptr)
                                                      : nlohmann::json(description)) &&
            (newest.is_null() || c["createdAt"] >= newest["createdAt"]))
          newest = c;
      print_clusters(nlohmann::json::array({newest}), options.json);
      return 0;
    }
    print_clusters(get_clusters(client, secret), options.json);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "diffplane: " << e.what() << "\n";
    return 1;
  }
}

} // namespace diffplane::cli
