#pragma once

#include <pqxx/pqxx>

#include <string>
#include <utility>

namespace diffplane::persistence::sql {

/// Runs `definition` as the prepared statement `name` of `txn`'s connection. Group commit
/// sends the same few statements hundreds of times a second; unprepared, Postgres parsed,
/// analyzed and planned each one anew, a sixth of its CPU in the saturated cycle. The
/// first call on a connection prepares the statement; later ones find it registered
/// (pqxx compares the text and does nothing when it is unchanged).
template <class... Params>
pqxx::result exec_prepared(pqxx::transaction_base& txn, const std::string& name,
                           const std::string& definition, Params&&... params) {
  txn.conn().prepare(name, definition);
  return txn.exec_prepared(name, std::forward<Params>(params)...);
}

} // namespace diffplane::persistence::sql
