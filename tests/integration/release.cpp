#define CAF_SUITE release

#include "http_test_helpers.hpp"

#include <caf/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <strings.h>

using namespace diffplane::testing;

namespace {

std::string source_file(const std::string& relative) {
  const char* dir = std::getenv("DIFFPLANE_SOURCE_DIR");
  CAF_REQUIRE(dir != nullptr);
  return std::string{dir} + "/" + relative;
}

std::string read(const std::string& path) {
  std::ifstream in{path};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The value of the reply's header `name` (any case), or "(none)".
std::string header(const diffplane::cli::http_reply& reply, const char* name) {
  for (const auto& [key, value] : reply.headers)
    if (strcasecmp(key.c_str(), name) == 0)
      return value;
  return "(none)";
}

/// `--print-config` of the example config file `file` (secrets from the environment).
command_result print_config(const std::string& file) {
  return run_diffplane({"serve", "--config", file, "--print-config"},
                       {"MANAGEMENT_SECRET=" + test_management_secret,
                        "DATABASE_URL=postgresql:///diffplane"});
}

} // namespace

CAF_TEST(version prints the version and the git commit) {
  auto result = run_diffplane({"--version"});
  CAF_CHECK_EQUAL(result.exit_code, 0);
  CAF_MESSAGE(result.output);
  CAF_CHECK(std::regex_match(
      result.output,
      std::regex{
          R"(diffplane [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{7,}(-dirty)?|unknown)\)\n)"}));
}

CAF_TEST(the example config file of packaging is accepted) {
  auto example = source_file("packaging/diffplane.toml");
  auto result = print_config(example);
  CAF_CHECK_EQUAL(result.exit_code, 0);
  CAF_MESSAGE(result.output);
  CAF_CHECK(result.output.find("log-format = \"json\"") != std::string::npos);
  CAF_CHECK(result.output.find("metrics-listen = \"127.0.0.1:9464\"") !=
            std::string::npos);
  CAF_CHECK(result.output.find("console = true") != std::string::npos);

  // Every "# key = value" line shows an accepted key and value: uncommented, the file
  // is accepted too.
  auto text = read(example);
  auto uncommented =
      std::regex_replace(text, std::regex{R"((^|\n)# ([a-z0-9-]+ = ))"}, "$1$2");
  auto dir = make_temp_dir("diffplane-release");
  auto all_keys = dir + "/all.toml";
  std::ofstream{all_keys} << uncommented;
  auto every = print_config(all_keys);
  std::filesystem::remove_all(dir);
  CAF_CHECK_EQUAL(every.exit_code, 0);
  CAF_MESSAGE(every.output);

  // And it names every option, so it stays a complete reference.
  std::istringstream lines{result.output};
  for (std::string line; std::getline(lines, line);) {
    auto key = line.substr(0, line.find(" = "));
    if (key == "management-secret")
      continue; // kept out on purpose: secrets go in the environment
    bool named = std::regex_search(uncommented, std::regex{"(^|\n)" + key + " = "});
    if (!named)
      CAF_MESSAGE("packaging/diffplane.toml does not name " << key);
    CAF_CHECK(named);
  }
}

CAF_TEST(the console is served unless turned off and the Server header only on request) {
  {
    server_fixture plain;
    auto console = plain.server.client().request("GET", "/console");
    CAF_CHECK_EQUAL(console.status, 200u);
    CAF_CHECK(console.body.find("<html") != std::string::npos);
    CAF_CHECK_EQUAL(header(console, "Server"), "(none)");
    CAF_CHECK_EQUAL(header(plain.server.client().request("GET", "/live"), "Server"),
                    "(none)");
  }
  server_fixture configured{{"--console=false", "--server-header"}};
  auto console = configured.server.client().request("GET", "/console");
  CAF_CHECK_EQUAL(console.status, 404u);
  auto live = configured.server.client().request("GET", "/live");
  CAF_CHECK_EQUAL(live.status, 200u);
  CAF_CHECK(std::regex_match(header(live, "Server"),
                             std::regex{R"(diffplane/[0-9]+\.[0-9]+\.[0-9]+)"}));
}
