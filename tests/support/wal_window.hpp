#pragma once

#include <memory>
#include <string>
#include <vector>

namespace diffplane::testing {

/// The WAL records Postgres writes between its construction and records(): what the
/// server wrote to which table or index of the test's database (pg_walinspect).
class wal_window {
public:
  explicit wal_window(const std::string& database_url);
  ~wal_window();
  wal_window(const wal_window&) = delete;
  wal_window& operator=(const wal_window&) = delete;

  /// The first column of `query` over `records` (record: "Heap/UPDATE", relation: the
  /// oid of the table or index of its first block), the records of the window so far.
  std::vector<std::string> records(const std::string& query);

private:
  struct session;
  std::unique_ptr<session> session_;
  std::string before_;
};

/// The records a server writes on its own that are no write of its requests: a reader
/// prunes the dead row versions of a page it reads, sets hint bits, and autovacuum may
/// run. A filter for records(), to be used as `AND w.record !~ <this>`.
inline constexpr const char* housekeeping_records =
    "'^(Heap2/(PRUNE|VACUUM|VISIBLE|FREEZE_PAGE)|XLOG/FPI_FOR_HINT|Btree/VACUUM)$'";

/// Waits (up to 10 s) until every cluster's live-jobs boundary is past its newest job:
/// until then a sweep may move the boundary, writing `clusters`.
bool wait_for_live_jobs_boundary(const std::string& database_url);

} // namespace diffplane::testing
