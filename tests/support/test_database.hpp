#pragma once

#include <string>

namespace diffplane::testing {

/// A fresh database on the throwaway Postgres the ctest fixture started
/// (DIFFPLANE_TEST_PG_DIR); each call makes a new one so tests never share state.
std::string create_test_database();

/// The throwaway Postgres's own maintenance database, for what a database cannot do to
/// itself (refuse its own connections, say).
std::string admin_database_url();

/// The repository root (DIFFPLANE_SOURCE_DIR), for scripts.
std::string source_dir();

/// A new empty directory under the system temp dir, for data dirs.
std::string make_temp_dir(const std::string& prefix);

/// Runs a shell command and returns its standard output; throws on a non-zero exit.
std::string run_command(const std::string& command);

} // namespace diffplane::testing
