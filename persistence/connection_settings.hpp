#pragma once

#include <chrono>
#include <string>

namespace diffplane::persistence {

/// Limits every database connection of the server gets, so that a database that stops
/// answering (a dropped link, a frozen host) is noticed in seconds instead of when TCP
/// gives up after hours. Zero leaves a setting to libpq's or Postgres's default.
struct connection_settings {
  /// Longest wait for a connection to be made (libpq connect_timeout).
  std::chrono::seconds connect_timeout{5};
  /// TCP keepalive probes: first after this much silence, then every interval, and the
  /// connection is dropped after `keepalive_count` unanswered ones.
  std::chrono::seconds keepalive_idle{10};
  std::chrono::seconds keepalive_interval{5};
  unsigned keepalive_count = 3;
  /// Longest time sent data may stay unacknowledged before the kernel drops the
  /// connection (libpq tcp_user_timeout; Linux only).
  std::chrono::milliseconds tcp_user_timeout{20000};
  /// Postgres cancels a statement running longer (statement_timeout).
  std::chrono::milliseconds statement_timeout{0};
  /// Postgres ends a session idle inside a transaction this long (it holds locks).
  std::chrono::milliseconds idle_in_transaction_timeout{0};
};

/// `configured` (a postgresql:// URL or a key=value connection string) as a key=value
/// connection string with `settings` added. A parameter the operator set, in the string
/// or in its libpq environment variable (PGCONNECT_TIMEOUT, PGOPTIONS, ...), is kept as
/// it is; so is a statement_timeout or idle_in_transaction_session_timeout given in the
/// string's `options`. Throws std::invalid_argument with libpq's message when
/// `configured` does not parse.
std::string connection_string(const std::string& configured,
                              const connection_settings& settings);

} // namespace diffplane::persistence
