#include "test_database.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <stdexcept>

namespace diffplane::testing {

namespace {

std::string required_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0')
    throw std::runtime_error(std::string{name} +
                             " is not set; run the tests through ctest");
  return value;
}

} // namespace

std::string run_command(const std::string& command) {
  std::array<char, 4096> buffer{};
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr)
    throw std::runtime_error("cannot run: " + command);
  while (auto n = std::fread(buffer.data(), 1, buffer.size(), pipe))
    output.append(buffer.data(), n);
  int status = pclose(pipe);
  if (status != 0)
    throw std::runtime_error("command failed (" + std::to_string(status) +
                             "): " + command);
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r'))
    output.pop_back();
  return output;
}

std::string source_dir() {
  return required_env("DIFFPLANE_SOURCE_DIR");
}

std::string create_test_database() {
  return run_command(source_dir() + "/scripts/pg createdb " +
                     required_env("DIFFPLANE_TEST_PG_DIR"));
}

std::string admin_database_url() {
  return run_command("cat " + required_env("DIFFPLANE_TEST_PG_DIR") + "/url");
}

std::string make_temp_dir(const std::string& prefix) {
  auto pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("cannot create a temp dir for " + prefix);
  return pattern;
}

namespace {

/// The directories of address_postgres are "diffplane-netpg-<pid>-XXXXXX" in the temp
/// dir (scripts/pg stop renames one to "<dir>.deleting.<n>" while it deletes it).
const std::string address_postgres_prefix = "diffplane-netpg-";

void stop_stale_address_postgres() {
  static const std::regex name{"^" + address_postgres_prefix + R"(([0-9]+)-[^.]+$)"};
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator{std::filesystem::temp_directory_path(), ec}) {
    auto file = entry.path().filename().string();
    std::smatch m;
    if (!std::regex_match(file, m, name))
      continue;
    auto pid = static_cast<pid_t>(std::stol(m[1]));
    if (::kill(pid, 0) != 0 && errno == ESRCH)
      run_command(source_dir() + "/scripts/pg stop " + entry.path().string() +
                  " >/dev/null 2>&1 || true");
  }
}

} // namespace

address_postgres::address_postgres(const std::string& address) {
  stop_stale_address_postgres();
  dir_ = make_temp_dir(address_postgres_prefix + std::to_string(getpid()));
  try {
    run_command(source_dir() + "/scripts/pg start " + dir_ + " " + address +
                " >/dev/null");
  } catch (...) {
    run_command(source_dir() + "/scripts/pg stop " + dir_ + " >/dev/null 2>&1 || true");
    throw;
  }
}

address_postgres::~address_postgres() {
  try {
    run_command(source_dir() + "/scripts/pg stop " + dir_ + " >/dev/null 2>&1 || true");
  } catch (const std::exception&) {
    // the next test process stops it
  }
}

std::string address_postgres::create_database() const {
  return run_command(source_dir() + "/scripts/pg createdb " + dir_);
}

} // namespace diffplane::testing
