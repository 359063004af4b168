#define CAF_SUITE configuration

#include "server_process.hpp"
#include "test_database.hpp"

#include <caf/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

using namespace diffplane::testing;

namespace {

bool one_line(const std::string& text) {
  auto first = text.find('\n');
  return !text.empty() && (first == std::string::npos || first == text.size() - 1);
}

} // namespace

CAF_TEST(a management secret that breaks the rule exits 2 naming the rule) {
  auto result = run_diffplane({"serve", "--database-url", "postgresql:///none",
                               "--management-secret", "sk_management_short"});
  CAF_CHECK_EQUAL(result.exit_code, 2);
  CAF_CHECK(one_line(result.output));
  CAF_CHECK(result.output.find("sk_management_") != std::string::npos);
  CAF_CHECK(result.output.find("32") != std::string::npos);
  auto wrong_prefix = run_diffplane(
      {"serve", "--management-secret", "sk_wrongprefix_0123456789012345678901234"});
  CAF_CHECK_EQUAL(wrong_prefix.exit_code, 2);
}

CAF_TEST(a server without a management secret refuses to start) {
  auto result = run_diffplane({"serve", "--database-url", "postgresql:///none"},
                              {"MANAGEMENT_SECRET="});
  CAF_CHECK_EQUAL(result.exit_code, 2);
  CAF_CHECK(result.output.find("MANAGEMENT_SECRET") != std::string::npos);
}

CAF_TEST(unknown flags and bad values exit 2 with one line) {
  auto unknown = run_diffplane({"serve", "--no-such-flag"});
  CAF_CHECK_EQUAL(unknown.exit_code, 2);
  CAF_CHECK(one_line(unknown.output));
  auto bad_number = run_diffplane({"serve", "--body-limit", "lots"});
  CAF_CHECK_EQUAL(bad_number.exit_code, 2);
  auto bad_format = run_diffplane({"serve", "--dev", "--log-format", "xml", "--data-dir",
                                   make_temp_dir("diffplane-config")});
  CAF_CHECK_EQUAL(bad_format.exit_code, 2);
  CAF_CHECK(bad_format.output.find("--log-format") != std::string::npos);
  auto bad_interval = run_diffplane({"serve", "--dev", "--actor-poll-interval-us", "0",
                                     "--data-dir", make_temp_dir("diffplane-config")});
  CAF_CHECK_EQUAL(bad_interval.exit_code, 2);
  CAF_CHECK(one_line(bad_interval.output));
  CAF_CHECK(bad_interval.output.find("--actor-poll-interval-us") != std::string::npos);
  auto bad_polls = run_diffplane({"serve", "--dev", "--actor-idle-polls", "-2",
                                  "--data-dir", make_temp_dir("diffplane-config")});
  CAF_CHECK_EQUAL(bad_polls.exit_code, 2);
  CAF_CHECK(one_line(bad_polls.output));
  CAF_CHECK(bad_polls.output.find("--actor-idle-polls") != std::string::npos);
  auto no_bytes = run_diffplane({"serve", "--dev", "--max-live-bytes-per-cluster", "0",
                                 "--data-dir", make_temp_dir("diffplane-config")});
  CAF_CHECK_EQUAL(no_bytes.exit_code, 2);
  CAF_CHECK(one_line(no_bytes.output));
  CAF_CHECK(no_bytes.output.find("--max-live-bytes-per-cluster") != std::string::npos);
}

CAF_TEST(flags beat the environment which beats the config file) {
  auto dir = make_temp_dir("diffplane-config");
  auto file = dir + "/diffplane.toml";
  std::ofstream{file}
      << "log-level = \"debug\"\n"
         "machine-stall-seconds = 5\n"
         "body-limit = 5000\n"
         "max-connections-per-address = 16\n"
         "max-connections = 900\n"
         "management-secret = \"sk_management_from_the_config_file_123\"\n";
  auto result =
      run_diffplane({"serve", "--config", file, "--body-limit", "6000", "--print-config"},
                    {"DIFFPLANE_MACHINE_STALL_SECONDS=7", "DIFFPLANE_BODY_LIMIT=5500",
                     "DIFFPLANE_MAX_CONNECTIONS=1000", "MANAGEMENT_SECRET="});
  std::filesystem::remove_all(dir);
  CAF_CHECK_EQUAL(result.exit_code, 0);
  CAF_MESSAGE(result.output);
  CAF_CHECK(result.output.find("log-level = \"debug\"") != std::string::npos);
  CAF_CHECK(result.output.find("machine-stall-seconds = 7") != std::string::npos);
  CAF_CHECK(result.output.find("body-limit = 6000") != std::string::npos);
  CAF_CHECK(result.output.find("max-connections-per-address = 16") != std::string::npos);
  CAF_CHECK(result.output.find("max-connections = 1000") != std::string::npos);
  // The secret came from the file and is not printed in full.
  CAF_CHECK(result.output.find("sk_management_from_the_config_file_123") ==
            std::string::npos);
  CAF_CHECK(result.output.find("management-secret = \"sk_management_...\"") !=
            std::string::npos);
}

CAF_TEST(a misspelt config file key is an error) {
  auto dir = make_temp_dir("diffplane-config");
  auto file = dir + "/diffplane.toml";
  std::ofstream{file} << "machine-stall-secs = 5\n";
  auto result = run_diffplane({"serve", "--config", file, "--print-config"});
  std::filesystem::remove_all(dir);
  CAF_CHECK_EQUAL(result.exit_code, 2);
  CAF_CHECK(result.output.find("machine-stall-secs") != std::string::npos);
}

CAF_TEST(a port file that cannot be written stops the server with exit 1) {
  auto result = run_diffplane({"serve", "--listen", "127.0.0.1:0", "--database-url",
                               create_test_database(), "--management-secret",
                               test_management_secret, "--port-file",
                               "/nonexistent-diffplane-dir/ports"});
  CAF_CHECK_EQUAL(result.exit_code, 1);
  CAF_CHECK(result.output.find("--port-file") != std::string::npos);
}

CAF_TEST(serve help documents every option) {
  auto result = run_diffplane({"serve", "--help"});
  CAF_CHECK_EQUAL(result.exit_code, 0);
  for (auto option : {"--listen",
                      "--caf-port",
                      "--database-url",
                      "--management-secret",
                      "--data-dir",
                      "--dev",
                      "--http-threads",
                      "--actor-threads",
                      "--actor-poll-interval-us",
                      "--actor-idle-polls",
                      "--body-limit",
                      "--header-limit",
                      "--idle-timeout",
                      "--max-connections",
                      "--max-connections-per-address",
                      "--max-parked-polls",
                      "--max-parked-polls-per-cluster",
                      "--load-page-jobs",
                      "--max-live-jobs-per-cluster",
                      "--max-live-bytes-per-cluster",
                      "--concurrent-loads",
                      "--batch-status-max-ids",
                      "--machine-stall-seconds",
                      "--log-level",
                      "--log-format",
                      "--metrics-listen",
                      "--port-file",
                      "--activity-retention-hours",
                      "DATABASE_URL",
                      "MANAGEMENT_SECRET"})
    CAF_CHECK(result.output.find(option) != std::string::npos);
}
