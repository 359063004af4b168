// The `serve` command line and its TOML config file, read as main.cpp reads them:
// add_server_options on a root app with a `serve` subcommand, then validate() and
// describe() on what was read. Input: when it holds a NUL byte, the lines before it are
// extra command-line arguments and the rest is the file; otherwise all of it is the file.
// A bad file or flag must end in CLI11's ParseError (which main turns into exit code 2),
// never in another exception or a crash.
#include "config/command_line.hpp"
#include "config/server_options.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

using namespace diffplane;

namespace {

/// One file per process, rewritten for each input.
const std::string& config_path() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    std::string pattern =
        std::string{dir != nullptr ? dir : "/tmp"} + "/fuzz-config-XXXXXX";
    int fd = mkstemp(pattern.data());
    if (fd < 0) {
      std::perror("mkstemp");
      std::abort();
    }
    close(fd);
    std::atexit([] { std::remove(config_path().c_str()); });
    return pattern;
  }();
  return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  std::vector<std::string> args{"diffplane", "serve", "--config", config_path()};
  auto nul = input.find('\0');
  if (nul != std::string_view::npos) {
    auto lines = input.substr(0, nul);
    input.remove_prefix(nul + 1);
    while (!lines.empty()) {
      auto newline = lines.find('\n');
      args.emplace_back(lines.substr(0, newline));
      lines = newline == std::string_view::npos ? std::string_view{}
                                                : lines.substr(newline + 1);
    }
  }
  {
    std::ofstream file{config_path(), std::ios::binary | std::ios::trunc};
    file.write(input.data(), static_cast<std::streamsize>(input.size()));
  }

  CLI::App app{"diffplane", "diffplane"};
  config::server_options options;
  auto* serve = app.add_subcommand("serve", "run the server");
  config::add_server_options(app, *serve, options);
  // CLI11 parses a reversed vector: the last element is the first argument.
  std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError&) {
    return 0;
  }
  if (!config::validate(options))
    config::describe(options);
  config::effective_listen(options);
  return 0;
}
