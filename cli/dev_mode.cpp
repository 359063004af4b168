#include "cli/dev_mode.hpp"

#include "actors/secrets.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace diffplane::cli {

std::string dev_management_secret(const std::string& data_dir) {
  std::filesystem::create_directories(data_dir);
  auto path = std::filesystem::path{data_dir} / "management-secret";
  std::string secret;
  if (std::ifstream in{path}; in && std::getline(in, secret) && !secret.empty())
    return secret;
  secret = "sk_management_" + secrets::random_hex(24);
  std::ofstream out{path, std::ios::trunc};
  out << secret << "\n";
  if (!out)
    throw std::runtime_error("cannot write " + path.string());
  chmod(path.c_str(), 0600);
  return secret;
}

std::string dev_banner(const std::string& endpoint, const std::string& management_secret,
                       const std::string& cluster_id, const std::string& api_secret,
                       const std::string& database, const std::string& data_dir) {
  std::ostringstream out;
  out << "\n"
      << "diffplane is running in dev mode\n"
      << "  endpoint           " << endpoint << "\n"
      << "  management secret  " << management_secret << "\n"
      << "  dev cluster        " << cluster_id << "\n"
      << "  API secret         " << api_secret << "\n"
      << "  database           " << database << "\n"
      << "\n"
      << "Try it (npm install @differentialhq/core, then paste into hello.mjs and run "
         "node hello.mjs):\n"
      << "\n"
      << "import { Differential } from \"@differentialhq/core\";\n"
      << "const d = new Differential(\"" << api_secret << "\", { endpoint: \"" << endpoint
      << "\" });\n"
      << "const hello = d.service({ name: \"hello\", functions: { greet: async (name) => "
         "`Hello ${name}` } });\n"
      << "await hello.start();\n"
      << "console.log(await d.client(\"hello\").greet(\"world\")); await hello.stop();\n"
      << "\n"
      << "Create more clusters: diffplane cluster create --endpoint " << endpoint
      << " --data-dir " << data_dir << "\n"
      << "Stop with Ctrl-C.\n";
  return out.str();
}

} // namespace diffplane::cli
