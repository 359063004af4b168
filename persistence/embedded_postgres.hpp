#pragma once

#include <string>

namespace diffplane::persistence {

struct embedded_postgres_options {
  /// Directory of the cluster's files; created (initdb) on first use.
  std::string data_dir;
  /// Where initdb, pg_ctl and postgres live.
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
};

/// A private Postgres started from the Debian binaries for `serve --dev` and for a server
/// without a database URL. It listens only on a socket directory inside the data dir, on
/// a free port; as root it runs as the `postgres` user, because Postgres refuses root.
/// One process at a time may own a data dir (an flock); a server that died by SIGKILL
/// leaves its Postgres running, and the next start reuses it.
class embedded_postgres {
public:
  /// Starts or reuses the Postgres of `options.data_dir`; throws std::runtime_error with
  /// a one-line message when it cannot.
  static embedded_postgres start(const embedded_postgres_options& options);

  embedded_postgres(embedded_postgres&& other) noexcept;
  embedded_postgres& operator=(embedded_postgres&&) = delete;
  embedded_postgres(const embedded_postgres&) = delete;
  ~embedded_postgres();

  /// libpq connection string of the database `diffplane`.
  const std::string& connection_url() const { return url_; }

  /// Stops Postgres (fast shutdown) and releases the data dir; idempotent.
  void stop();

private:
  embedded_postgres() = default;

  embedded_postgres_options options_;
  std::string cluster_dir_;
  std::string url_;
  int lock_fd_ = -1;
};

} // namespace diffplane::persistence
