#pragma once

#include "config/server_options.hpp"

#include <string>

namespace diffplane::cli {

/// The connection string of each database connection the server opens, made from the
/// operator's URL and the connection options: the same network limits for all, and the
/// statement timeout each role's work allows.
struct database_urls {
  /// Group commits: small statements, a short timeout.
  std::string writer;
  /// Listings, activity and loads at start: a longer timeout.
  std::string reader;
  /// Holds the node's advisory lock for the server's life: keepalives matter most here.
  std::string node_lock;
  /// Schema migrations at start: no statement timeout, as a migration of a large table
  /// may rightly take long, and nothing else runs yet.
  std::string migrations;
};

/// Throws std::invalid_argument when `url` does not parse.
database_urls database_urls_of(const std::string& url,
                               const config::server_options& options);

} // namespace diffplane::cli
