#include "cli/remote.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace diffplane::cli {

void add_remote_options(CLI::App& command, remote_options& options) {
  command
      .add_option("--endpoint", options.endpoint,
                  "the server's endpoint, http://host:port or https://host:port")
      ->envname("DIFFPLANE_ENDPOINT")
      ->capture_default_str();
  command
      .add_option("--management-secret", options.management_secret,
                  "management secret (default: the dev server's, from --data-dir)")
      ->envname("MANAGEMENT_SECRET");
  command.add_option("--data-dir", options.data_dir, "data dir of a dev server")
      ->envname("DIFFPLANE_DATA_DIR")
      ->capture_default_str();
  command
      .add_option("--ca-file", options.ca_file,
                  "PEM file of the CA certificates an https endpoint is checked against "
                  "(default: the system's)")
      ->envname("DIFFPLANE_CA_FILE");
  command.add_flag("--json", options.json, "print JSON instead of a table");
}

std::string management_secret_of(const remote_options& options) {
  if (!options.management_secret.empty())
    return options.management_secret;
  std::ifstream in{std::filesystem::path{options.data_dir} / "management-secret"};
  std::string secret;
  std::getline(in, secret);
  return secret;
}

http_client client_of(const remote_options& options) {
  return http_client{options.endpoint, std::chrono::seconds{30}, options.ca_file};
}

nlohmann::json get_json(const remote_options& options, const std::string& target) {
  auto client = client_of(options);
  auto reply = client.request(
      "GET", target, {}, {{"Authorization", "Basic " + management_secret_of(options)}});
  auto body = nlohmann::json::parse(reply.body, nullptr, false);
  if (reply.status != 200) {
    std::string message = body.is_object() && body.contains("message")
                              ? body["message"].get<std::string>()
                              : reply.body;
    throw std::runtime_error("GET " + target + " answered " +
                             std::to_string(reply.status) + ": " + message);
  }
  if (body.is_discarded())
    throw std::runtime_error("GET " + target + " answered something that is not JSON");
  return body;
}

int run_remote(const remote_options& options, const std::function<void()>& body) {
  if (management_secret_of(options).empty()) {
    std::cerr << "diffplane: no management secret: pass --management-secret or set "
                 "MANAGEMENT_SECRET\n";
    return 2;
  }
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "diffplane: " << e.what() << "\n";
    return 1;
  }
}

std::string cell(const nlohmann::json& value) {
  if (value.is_null())
    return "";
  if (value.is_string())
    return value.get<std::string>();
  return value.dump();
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& h : header)
    widths.push_back(h.size());
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  auto print = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::cout << row[i];
      if (i + 1 < row.size())
        std::cout << std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << "\n";
  };
  print(header);
  for (const auto& row : rows)
    print(row);
}

} // namespace diffplane::cli
