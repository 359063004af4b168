#include "test_database.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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

} // namespace diffplane::testing
