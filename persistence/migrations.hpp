#pragma once

#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace diffplane::persistence {

/// One numbered schema change from persistence/migrations/.
struct migration {
  int version;
  const char* name;
  const char* sql;
};

/// Every migration the binary knows, in ascending version order (generated at build).
const std::vector<migration>& migrations();

/// Outcome of bringing a database up to date.
struct migration_report {
  int version_before = 0;
  int version_after = 0;
};

/// Applies the missing migrations in one transaction, serialised between nodes by an
/// advisory lock. Throws std::runtime_error when the database is newer than the binary.
migration_report apply_migrations(pqxx::connection_base& connection);

} // namespace diffplane::persistence
