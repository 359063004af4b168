#pragma once

#include "cli/http_client.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace CLI {
class App;
}

// What the commands that talk to a running server share.
namespace diffplane::cli {

struct remote_options {
  std::string endpoint = "http://127.0.0.1:4000";
  std::string management_secret;
  std::string data_dir = ".diffplane";
  /// PEM file of the certificates that may sign an https endpoint's; empty: the system's.
  std::string ca_file;
  bool json = false;
};

/// --endpoint, --management-secret, --data-dir, --ca-file and --json on `command`.
void add_remote_options(CLI::App& command, remote_options& options);

/// The management secret: given, or the dev server's (in the data dir); empty if neither.
std::string management_secret_of(const remote_options& options);

/// A client of the endpoint the options name.
http_client client_of(const remote_options& options);

/// GET `target` with the management secret; throws std::runtime_error with the server's
/// message on any answer but 200.
nlohmann::json get_json(const remote_options& options, const std::string& target);

/// Runs `body`: exit 2 without a management secret, 1 with a one-line message when it
/// throws, else 0.
int run_remote(const remote_options& options, const std::function<void()>& body);

/// Prints rows as aligned columns with a header.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

/// A JSON value as table text ("" for null).
std::string cell(const nlohmann::json& value);

} // namespace diffplane::cli
