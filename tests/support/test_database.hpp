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

/// A throwaway Postgres of a test's own that listens on `address` (port 5432) as well as
/// on its socket (scripts/pg start DIR ADDRESS), for tests that cut servers from the
/// database with routes: the shared test Postgres has only a socket, which a server in
/// another network namespace still reaches through the file system. The destructor
/// stops and deletes it; the constructor stops those that test processes which died
/// without cleaning up left behind.
class address_postgres {
public:
  explicit address_postgres(const std::string& address);
  ~address_postgres();
  address_postgres(const address_postgres&) = delete;
  address_postgres& operator=(const address_postgres&) = delete;

  /// A fresh database on it; its URL names `address`.
  std::string create_database() const;

private:
  std::string dir_;
};

} // namespace diffplane::testing
