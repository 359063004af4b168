#pragma once

#include "config/server_options.hpp"

#include <string>

namespace diffplane::cli {

/// The connection string of each database connection the server opens, made from the
/// operator's URL and the connection options: the same network limits for all, and the
/// statement timeout each role's work allows.
struct database_urls {
  /// Group commits: small statements, a short timeout, and no transaction left idle
  /// (holding its fencing locks) longer than a lease.
  std::string writer;
  /// Listings, activity and loads at start: a longer timeout.
  std::string reader;
  /// The node's heartbeats and cluster leases: keepalives matter most here, and neither
  /// a statement nor a transaction left idle may outlive a lease.
  std::string membership;
  /// Schema migrations at start: no statement timeout, as a migration of a large table
  /// may rightly take long, and nothing else runs yet.
  std::string migrations;
};

/// Throws std::invalid_argument when `url` does not parse.
database_urls database_urls_of(const std::string& url,
                               const config::server_options& options);

} // namespace diffplane::cli
