#pragma once

#include <cstddef>
#include <functional>

namespace diffplane::persistence {

/// What became of one attempt to commit a range of a failed group commit's writes.
enum class range_outcome {
  /// Committed, and its writers answered.
  committed,
  /// The database refused a write of the range; nothing of it committed. A lone
  /// write's writer is answered by the attempt.
  refused,
  /// The database went away or stopped answering: no further attempt can succeed.
  database_down,
};

/// Commits the writes [begin, end) of a batch in one transaction.
using commit_range = std::function<range_outcome(std::size_t begin, std::size_t end)>;

/// Answers the writers of [begin, end), which were never tried: the database is down.
using abandon_range = std::function<void(std::size_t begin, std::size_t end)>;

/// Commits the writes of a batch the database refused as a whole, halving each refused
/// range until every refused write stands alone, so k bad writes among n cost about
/// 2k·log2(n) transactions instead of n and one tenant's bad row does not make every
/// other tenant's writes wait for a transaction each. Ranges commit in write order.
/// Returns the number of transactions tried.
std::size_t commit_in_halves(std::size_t count, const commit_range& commit,
                             const abandon_range& abandon);

/// Commits every write on its own, in order: after a batch whose commit is in doubt,
/// where each write must learn on its own whether it had landed. Returns the number of
/// transactions tried.
std::size_t commit_one_by_one(std::size_t count, const commit_range& commit,
                              const abandon_range& abandon);

} // namespace diffplane::persistence
