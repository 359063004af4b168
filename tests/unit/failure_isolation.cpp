#define CAF_SUITE failure_isolation

#include "persistence/failure_isolation.hpp"

#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

using namespace diffplane::persistence;

namespace {

/// A database that refuses any transaction holding one of `bad`, and goes down after
/// `down_after` transactions; it records what each write was answered.
struct refusing_database {
  std::set<std::size_t> bad;
  std::size_t down_after = SIZE_MAX;
  std::size_t transactions = 0;
  std::vector<std::string> answers;
  std::vector<std::size_t> commit_order;

  explicit refusing_database(std::size_t writes) : answers(writes) {}

  range_outcome commit(std::size_t begin, std::size_t end) {
    if (++transactions > down_after)
      return range_outcome::database_down;
    for (auto i = begin; i < end; ++i)
      if (bad.count(i) > 0) {
        if (end - begin == 1)
          answer(i, "refused");
        return range_outcome::refused;
      }
    for (auto i = begin; i < end; ++i) {
      answer(i, "committed");
      commit_order.push_back(i);
    }
    return range_outcome::committed;
  }

  void abandon(std::size_t begin, std::size_t end) {
    for (auto i = begin; i < end; ++i)
      answer(i, "unavailable");
  }

  void answer(std::size_t write, const std::string& what) {
    // Every writer is answered exactly once.
    CAF_CHECK_EQUAL(answers.at(write), "");
    answers.at(write) = what;
  }

  commit_range committer() {
    return [this](std::size_t b, std::size_t e) { return commit(b, e); };
  }
  abandon_range abandoner() {
    return [this](std::size_t b, std::size_t e) { abandon(b, e); };
  }

  std::size_t count(const std::string& what) const {
    return static_cast<std::size_t>(std::count(answers.begin(), answers.end(), what));
  }
};

bool ascending(const std::vector<std::size_t>& order) {
  return std::is_sorted(order.begin(), order.end());
}

} // namespace

CAF_TEST(one bad write among a thousand costs a few transactions and fails alone) {
  refusing_database db{1000};
  db.bad = {637};
  auto tried = commit_in_halves(1000, db.committer(), db.abandoner());
  CAF_CHECK_EQUAL(db.answers[637], "refused");
  CAF_CHECK_EQUAL(db.count("committed"), 999u);
  // Two halves per level of a ten-level split, where one by one took a thousand.
  CAF_CHECK_LESS_OR_EQUAL(tried, 20u);
  CAF_CHECK(ascending(db.commit_order));
}

CAF_TEST(several bad writes each fail alone) {
  refusing_database db{512};
  db.bad = {0, 1, 200, 511};
  auto tried = commit_in_halves(512, db.committer(), db.abandoner());
  for (auto i : db.bad)
    CAF_CHECK_EQUAL(db.answers[i], "refused");
  CAF_CHECK_EQUAL(db.count("committed"), 508u);
  CAF_CHECK_LESS_OR_EQUAL(tried, 4u * 2u * 9u);
  CAF_CHECK(ascending(db.commit_order));
}

CAF_TEST(a lone refused write is tried once more on its own) {
  refusing_database db{1};
  db.bad = {0};
  CAF_CHECK_EQUAL(commit_in_halves(1, db.committer(), db.abandoner()), 1u);
  CAF_CHECK_EQUAL(db.answers[0], "refused");
  CAF_CHECK_EQUAL(commit_in_halves(0, db.committer(), db.abandoner()), 0u);
}

CAF_TEST(a database that goes down abandons every write not yet answered) {
  refusing_database db{100};
  db.bad = {70};
  db.down_after = 3; // the first half commits, then 50..75 is refused, then down
  commit_in_halves(100, db.committer(), db.abandoner());
  CAF_CHECK_EQUAL(db.count("committed"), 50u);
  CAF_CHECK_EQUAL(db.count("unavailable"), 50u);
  CAF_CHECK_EQUAL(db.count(""), 0u);
}

CAF_TEST(one by one tries each write in order) {
  refusing_database db{10};
  db.bad = {4};
  CAF_CHECK_EQUAL(commit_one_by_one(10, db.committer(), db.abandoner()), 10u);
  CAF_CHECK_EQUAL(db.answers[4], "refused");
  CAF_CHECK_EQUAL(db.count("committed"), 9u);
  CAF_CHECK(ascending(db.commit_order));
  refusing_database down{10};
  down.down_after = 6;
  commit_one_by_one(10, down.committer(), down.abandoner());
  CAF_CHECK_EQUAL(down.count("committed"), 6u);
  CAF_CHECK_EQUAL(down.count("unavailable"), 4u);
}
