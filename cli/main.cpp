#include "cli/cluster_command.hpp"
#include "cli/serve_command.hpp"
#include "config/command_line.hpp"
#include "config/version.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  using namespace diffplane;
  CLI::App app{"diffplane: a control plane for distributed function calls", "diffplane"};
  app.require_subcommand(1);
  app.set_version_flag("--version", config::version_line());

  config::server_options server;
  auto* serve =
      app.add_subcommand("serve", "run the server (HTTP gateway, actors, Postgres)");
  config::add_server_options(app, *serve, server);

  // The commands that talk to a running server set the exit code from their callbacks.
  int exit_code = 0;
  cli::add_cluster_commands(app, exit_code);
  cli::add_inspect_commands(app, exit_code);
  cli::add_resource_commands(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, exit 2: the error policy of the command line (docs/errors.md).
    std::cerr << "diffplane: " << e.what() << " (see: diffplane --help)\n";
    return 2;
  }
  if (serve->parsed())
    return cli::run_serve(server);
  return exit_code;
}
