#include "persistence/failure_isolation.hpp"

#include <utility>
#include <vector>

namespace diffplane::persistence {

namespace {

using range = std::pair<std::size_t, std::size_t>;

/// Runs the ranges of `todo` (the next one last) until none is left or the database is
/// down; refused ranges of more than one write are split in two and tried again.
std::size_t run(std::vector<range> todo, std::size_t count, const commit_range& commit,
                const abandon_range& abandon, bool split_refused) {
  std::size_t transactions = 0;
  while (!todo.empty()) {
    auto [begin, end] = todo.back();
    todo.pop_back();
    ++transactions;
    switch (commit(begin, end)) {
    case range_outcome::committed:
      break;
    case range_outcome::refused:
      if (split_refused && end - begin > 1) {
        auto middle = begin + (end - begin) / 2;
        todo.emplace_back(middle, end);
        todo.emplace_back(begin, middle);
      }
      break;
    case range_outcome::database_down:
      // Ranges run in write order, so everything from `begin` on is still unanswered.
      abandon(begin, count);
      return transactions;
    }
  }
  return transactions;
}

} // namespace

std::size_t commit_in_halves(std::size_t count, const commit_range& commit,
                             const abandon_range& abandon) {
  if (count == 0)
    return 0;
  // The whole batch is known to be refused: start with its halves.
  std::vector<range> todo;
  if (count == 1) {
    todo.emplace_back(0, 1);
  } else {
    todo.emplace_back(count / 2, count);
    todo.emplace_back(0, count / 2);
  }
  return run(std::move(todo), count, commit, abandon, true);
}

std::size_t commit_one_by_one(std::size_t count, const commit_range& commit,
                              const abandon_range& abandon) {
  std::vector<range> todo;
  for (auto i = count; i > 0; --i)
    todo.emplace_back(i - 1, i);
  return run(std::move(todo), count, commit, abandon, false);
}

} // namespace diffplane::persistence
