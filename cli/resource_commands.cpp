#include "cli/cluster_command.hpp"
#include "cli/remote.hpp"

#include <CLI/CLI.hpp>

#include <cctype>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <tuple>

// diffplane resources list|show|invalidate: the resource routes (docs/http-api.md,
// "Resources") from the command line, with a cluster's API secret.
namespace diffplane::cli {

namespace {

struct resources_state {
  remote_options remote;
  /// The cluster: its API secret is looked up with the management secret.
  std::string cluster_id;
  std::string api_secret;
  std::string kind;
  std::string id;
  std::string state;
  std::string namespace_name;
  int limit = 100;
};

/// The server said the input is wrong (400): exit 2, like a bad command line.
struct rejected_input : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Percent-encodes all but unreserved characters (RFC 3986).
std::string encoded(const std::string& text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0xF]);
    }
  }
  return out;
}

std::string api_secret_of(const resources_state& st) {
  if (!st.api_secret.empty())
    return st.api_secret;
  for (const auto& c : get_json(st.remote, "/clusters"))
    if (c["id"] == st.cluster_id)
      return c["apiSecret"].get<std::string>();
  throw std::runtime_error("no cluster " + st.cluster_id);
}

/// Sends the request with the cluster's API secret; the answer's JSON (null when it has
/// none). Throws with the server's message on any status but 200 and 204.
nlohmann::json call(const resources_state& st, const std::string& method,
                    const std::string& target) {
  auto reply = client_of(st.remote).request(
      method, target, {}, {{"Authorization", "Basic " + api_secret_of(st)}});
  auto body = nlohmann::json::parse(reply.body, nullptr, false);
  if (reply.status == 200 || reply.status == 204)
    return body.is_discarded() ? nlohmann::json{} : body;
  std::string message = body.is_object() && body.contains("message")
                            ? body["message"].get<std::string>()
                            : reply.body;
  auto line = method + " " + target + " answered " + std::to_string(reply.status) + ": " +
              message;
  if (reply.status == 400)
    throw rejected_input(line);
  throw std::runtime_error(line);
}

void list_resources(const resources_state& st) {
  std::string target = "/resources?limit=" + std::to_string(st.limit);
  for (auto [name, value] : {std::pair{"kind", &st.kind}, std::pair{"state", &st.state},
                             std::pair{"namespace", &st.namespace_name}})
    if (!value->empty())
      target += std::string{"&"} + name + "=" + encoded(*value);
  auto page = call(st, "GET", target);
  if (st.remote.json) {
    std::cout << page.dump(2) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : page["resources"])
    rows.push_back({cell(r["kind"]), cell(r["id"]), cell(r["state"]),
                    cell(r["namespace"]), cell(r["attempts"]), cell(r["updatedAt"])});
  print_table({"KIND", "ID", "STATE", "NAMESPACE", "ATTEMPTS", "UPDATED"}, rows);
  if (page["cursor"].is_string())
    std::cout << "(more: raise --limit or use GET /resources with cursor="
              << page["cursor"].get<std::string>() << ")\n";
}

void show_resource(const resources_state& st) {
  auto r = call(st, "GET", "/resources/" + encoded(st.kind) + "/" + encoded(st.id));
  if (st.remote.json) {
    std::cout << r.dump(2) << "\n";
    return;
  }
  for (auto key : {"kind", "id", "state", "namespace", "version", "hash", "attempts",
                   "maxAttempts", "dirty", "jobId", "nextAttemptAt", "updatedAt"})
    std::cout << key << std::string(16 - std::string{key}.size(), ' ') << cell(r[key])
              << "\n";
  std::cout << "object          " << r["object"].dump() << "\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : r["errors"])
    rows.push_back({cell(e["attempt"]), cell(e["at"]), cell(e["message"])});
  print_table({"ATTEMPT", "AT", "ERROR"}, rows);
}

void invalidate_resource(const resources_state& st) {
  auto r = call(st, "POST",
                "/resources/" + encoded(st.kind) + "/" + encoded(st.id) + "/invalidate");
  if (st.remote.json)
    std::cout << r.dump(2) << "\n";
  else
    std::cout << st.kind << "/" << st.id << " " << cell(r["state"]) << "\n";
}

/// Runs `body`: exit 2 without a cluster or a secret to reach it, or when the server
/// rejects the input (400); 1 with a one-line message on any other failure; else 0.
int run_resources(const resources_state& st, void (*body)(const resources_state&)) {
  if (st.api_secret.empty() && st.cluster_id.empty()) {
    std::cerr << "diffplane: no cluster: pass --cluster ID or --api-secret\n";
    return 2;
  }
  if (st.api_secret.empty() && management_secret_of(st.remote).empty()) {
    std::cerr << "diffplane: no management secret to look the cluster up: pass "
                 "--management-secret or --api-secret\n";
    return 2;
  }
  try {
    body(st);
    return 0;
  } catch (const rejected_input& e) {
    std::cerr << "diffplane: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "diffplane: " << e.what() << "\n";
    return 1;
  }
}

void add_cluster_options(CLI::App& command, resources_state& st) {
  command.add_option(
      "--cluster", st.cluster_id,
      "the cluster id (its API secret is read with the management secret)");
  command
      .add_option("--api-secret", st.api_secret,
                  "the cluster's API secret (instead of --cluster)")
      ->envname("DIFFPLANE_API_SECRET");
  add_remote_options(command, st.remote);
}

} // namespace

void add_resource_commands(CLI::App& app, int& exit_code) {
  auto st = std::make_shared<resources_state>();
  auto* resources =
      app.add_subcommand("resources", "inspect and invalidate resources of a cluster");
  resources->require_subcommand(1);

  auto* list = resources->add_subcommand("list", "resources in key order");
  list->add_option("--kind", st->kind, "only this kind");
  list->add_option("--state", st->state,
                   "only this state (scheduled, pending, synced, ...)");
  list->add_option("--namespace", st->namespace_name, "only this namespace");
  list->add_option("--limit", st->limit, "at most this many (1 to 1000)")
      ->capture_default_str();
  add_cluster_options(*list, *st);
  list->callback([st, &exit_code] { exit_code = run_resources(*st, list_resources); });

  using body = void (*)(const resources_state&);
  for (auto [name, description, run] :
       {std::tuple{"show", "a resource with its attempts and errors",
                   body{show_resource}},
        std::tuple{"invalidate", "work a synced resource again now",
                   body{invalidate_resource}}}) {
    auto* one = resources->add_subcommand(name, description);
    one->add_option("KIND", st->kind, "the resource's kind")->required();
    one->add_option("ID", st->id, "the resource's id")->required();
    add_cluster_options(*one, *st);
    one->callback([st, &exit_code, run = run] { exit_code = run_resources(*st, run); });
  }
}

} // namespace diffplane::cli
