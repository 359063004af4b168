#include "cli/cluster_command.hpp"
#include "cli/serve_command.hpp"
#include "config/command_line.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  using namespace diffplane;
  CLI::App app{"diffplane: a control plane for distributed function calls", "diffplane"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "diffplane 0.1.0");

  config::server_options server;
  auto* serve = app.add_subcommand("serve", "run the server (HTTP gateway, actors, Postgres)");
  config::add_server_options(app, *serve, server);

  cli::remote_options remote;
  std::string description;
  cli::add_cluster_commands(app, remote, description);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, exit 2: the error policy of the command line (docs/errors.md).
    auto* failing = app.get_subcommands().empty() ? &app : app.get_subcommands().front();
    std::cerr << "diffplane: " << e.what() << " (see: diffplane "
              << (failing == &app ? "" : failing->get_name() + " ") << "--help)\n";
    return 2;
  }
  if (serve->parsed())
    return cli::run_serve(server);
  return cli::run_cluster_command(*app.get_subcommand("cluster"), remote, description);
}
