#include "cli/database_urls.hpp"

#include "persistence/connection_settings.hpp"

#include <algorithm>

namespace diffplane::cli {

database_urls database_urls_of(const std::string& url,
                               const config::server_options& options) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  persistence::connection_settings common;
  common.connect_timeout = seconds{options.database_connect_timeout_seconds};
  common.keepalive_idle = seconds{options.database_keepalive_idle_seconds};
  common.keepalive_interval = seconds{options.database_keepalive_interval_seconds};
  common.keepalive_count = options.database_keepalive_count;
  common.tcp_user_timeout = milliseconds{options.database_tcp_user_timeout_ms};
  common.idle_in_transaction_timeout =
      milliseconds{options.database_idle_in_transaction_timeout_ms};
  auto with_timeout = [&](unsigned ms) {
    auto settings = common;
    settings.statement_timeout = milliseconds{ms};
    return settings;
  };
  // The writer (its fencing locks lease rows FOR KEY SHARE) and the membership rounds (they
  // update lease and node rows) must not keep their locks longer than a lease when the
  // node is cut from the database between two statements of a transaction: Postgres
  // would hold them, idle in the transaction, until its idle timeout (a minute), and
  // every other node's acquisitions would wait for them, and its membership rounds
  // behind those, losing its own leases meanwhile.
  auto lease_bounded = [&](persistence::connection_settings settings) {
    auto idle = options.database_idle_in_transaction_timeout_ms;
    settings.idle_in_transaction_timeout = milliseconds{
        idle == 0 ? options.lease_ttl_ms : std::min(idle, options.lease_ttl_ms)};
    return settings;
  };
  auto string_of = [&](const persistence::connection_settings& settings) {
    return persistence::connection_string(url, settings);
  };
  database_urls urls;
  urls.writer =
      string_of(lease_bounded(with_timeout(options.writer_statement_timeout_ms)));
  urls.reader = string_of(with_timeout(options.reader_statement_timeout_ms));
  // A round that outlives the lease TTL is useless: the node stops its clusters anyway.
  urls.membership = string_of(lease_bounded(
      with_timeout(std::min(options.writer_statement_timeout_ms, options.lease_ttl_ms))));
  urls.migrations = string_of(with_timeout(0));
  return urls;
}

} // namespace diffplane::cli
