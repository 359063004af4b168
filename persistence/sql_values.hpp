#pragma once

#include "persistence/records.hpp"

#include <pqxx/pqxx>

#include <string>
#include <string_view>

// Helpers to spell values as SQL literals for the multi-row statements of group commit.
namespace diffplane::persistence::sql {

/// 'text' quoted for `txn`'s connection.
inline std::string text(pqxx::transaction_base& txn, std::string_view value) {
  return txn.quote(std::string{value});
}

/// 'text', or NULL when empty.
inline std::string text_or_null(pqxx::transaction_base& txn, std::string_view value) {
  return value.empty() ? std::string{"NULL"} : text(txn, value);
}

/// A timestamptz literal from epoch milliseconds, or NULL for 0.
inline std::string timestamp(timestamp_ms ms) {
  if (ms == 0)
    return "NULL::timestamptz";
  return "to_timestamp(" + std::to_string(ms) + "::double precision / 1000)";
}

/// A timestamptz literal from epoch milliseconds, or now() for 0.
inline std::string timestamp_or_now(timestamp_ms ms) {
  return ms == 0 ? std::string{"now()"} : timestamp(ms);
}

/// An integer, or NULL when negative (our spelling of "none").
inline std::string int_or_null(long long value) {
  return value < 0 ? std::string{"NULL::integer"} : std::to_string(value);
}

inline std::string boolean(bool value) {
  return value ? "true" : "false";
}

/// A SELECT expression turning a timestamptz column into epoch milliseconds (0 for NULL).
inline std::string epoch_ms(std::string_view column) {
  return "coalesce((extract(epoch from " + std::string{column} + ") * 1000)::bigint, 0)";
}

/// Reads a nullable text field as a string (NULL -> empty).
inline std::string field_text(const pqxx::field& f) {
  return f.is_null() ? std::string{} : f.as<std::string>();
}

} // namespace diffplane::persistence::sql
