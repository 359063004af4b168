#define CAF_SUITE job_ids

#include "actors/job_ids.hpp"

#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using namespace diffplane;

namespace {

bool lowercase_hex(const std::string& id) {
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

} // namespace

CAF_TEST(ids are 32 lowercase hex digits that start with their creation time) {
  std::mt19937_64 random{7};
  // 2026-11-27T22:00:00Z in milliseconds.
  auto id = new_job_id(random, 1795816800000);
  CAF_CHECK_EQUAL(id.size(), 32u);
  CAF_CHECK(lowercase_hex(id));
  CAF_CHECK_EQUAL(id.substr(0, 12), "01a21f05bf00");
}

CAF_TEST(ids sort in creation order so that inserts append to the primary key) {
  std::mt19937_64 random{42};
  std::vector<std::string> ids;
  for (std::int64_t ms = 1795816800000; ms < 1795816800000 + 1000; ms += 7)
    ids.push_back(new_job_id(random, ms));
  CAF_CHECK(std::is_sorted(ids.begin(), ids.end()));
  CAF_CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
}

CAF_TEST(ids made in the same millisecond differ in their random bits) {
  std::mt19937_64 random{1};
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i)
    ids.insert(new_job_id(random, 1795816800000));
  CAF_CHECK_EQUAL(ids.size(), 10000u);
  // And by the clock, without one given: the prefix is today's time.
  auto now = new_job_id(random);
  CAF_CHECK(now.substr(0, 12) > std::string{"0190"} && now.size() == 32u);
}
