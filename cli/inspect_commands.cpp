#include "cli/cluster_command.hpp"
#include "cli/remote.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

namespace diffplane::cli {

namespace {

struct inspect_state {
  remote_options remote;
  std::string cluster_id;
  std::string job_id;
};

void print_activity(const nlohmann::json& entries) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : entries) {
    std::string meta;
    if (e["meta"].is_object())
      for (const auto& [key, value] : e["meta"].items())
        meta += (meta.empty() ? "" : " ") + key + "=" + cell(value);
    rows.push_back({cell(e["timestamp"]), cell(e["type"]), cell(e["jobId"]),
                    cell(e["machineId"]), cell(e["service"]), meta});
  }
  print_table({"TIME", "TYPE", "JOB", "MACHINE", "SERVICE", "DETAILS"}, rows);
}

void show_job(const inspect_state& st) {
  auto job = get_json(st.remote, "/clusters/" + st.cluster_id + "/jobs/" + st.job_id);
  if (st.remote.json) {
    std::cout << job.dump(2) << "\n";
    return;
  }
  for (auto key : {"id", "service", "targetFn", "status", "resultType", "attempts",
                   "maxAttempts", "timeoutSeconds", "machineId", "functionExecutionTime",
                   "createdAt", "lastDispatchedAt", "resultedAt"})
    std::cout << key << std::string(24 - std::string{key}.size(), ' ') << cell(job[key])
              << "\n";
  std::cout << "\n";
  print_activity(job["activity"]);
}

void show_activity(const inspect_state& st) {
  auto target = "/clusters/" + st.cluster_id + "/activity";
  if (!st.job_id.empty())
    target += "?jobId=" + st.job_id;
  auto entries = get_json(st.remote, target);
  if (st.remote.json)
    std::cout << entries.dump(2) << "\n";
  else
    print_activity(entries);
}

void show_nodes(const remote_options& remote) {
  auto view = get_json(remote, "/nodes");
  if (remote.json) {
    std::cout << view.dump(2) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& n : view["nodes"])
    rows.push_back({cell(n["id"]), cell(n["httpAddress"]), cell(n["startedAt"]),
                    cell(n["heartbeatAt"]), std::to_string(n["clusters"].size())});
  print_table({"NODE", "HTTP", "STARTED", "HEARTBEAT", "CLUSTERS"}, rows);
  std::cout << "\n";
  rows.clear();
  for (const auto& l : view["leases"])
    rows.push_back({cell(l["clusterId"]), cell(l["nodeId"]), cell(l["epoch"]),
                    l["expired"].get<bool>() ? "expired" : "held", cell(l["expiresAt"])});
  print_table({"CLUSTER", "NODE", "EPOCH", "LEASE", "EXPIRES"}, rows);
}

} // namespace

void add_inspect_commands(CLI::App& app, int& exit_code) {
  auto st = std::make_shared<inspect_state>();
  auto* job = app.add_subcommand("job", "inspect jobs of a running server");
  job->require_subcommand(1);
  auto* show = job->add_subcommand("show", "a job's state, attempts and activity");
  show->add_option("ID", st->job_id, "the job id")->required();
  show->add_option("--cluster", st->cluster_id, "the job's cluster id")->required();
  add_remote_options(*show, st->remote);
  show->callback(
      [st, &exit_code] { exit_code = run_remote(st->remote, [&] { show_job(*st); }); });

  auto* activity =
      app.add_subcommand("activity", "the activity log of a cluster, newest first");
  activity->add_option("CLUSTER", st->cluster_id, "the cluster id")->required();
  activity->add_option("--job", st->job_id, "only this job's activity");
  add_remote_options(*activity, st->remote);
  activity->callback([st, &exit_code] {
    exit_code = run_remote(st->remote, [&] { show_activity(*st); });
  });

  auto* nodes = app.add_subcommand(
      "nodes", "the live nodes of a running control plane and the cluster leases");
  add_remote_options(*nodes, st->remote);
  nodes->callback([st, &exit_code] {
    exit_code = run_remote(st->remote, [&] { show_nodes(st->remote); });
  });
}

} // namespace diffplane::cli
