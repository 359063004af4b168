#include "persistence/live_jobs_loader.hpp"

#include "persistence/connection_watchdog.hpp"
#include "persistence/errors.hpp"
#include "persistence/sql_jobs.hpp"
#include "persistence/sql_resources.hpp"

#include <caf/all.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <deque>
#include <future>
#include <memory>

namespace diffplane {

namespace {

using snapshot_transaction = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

/// The connection, the snapshot and its cursors. Members end in reverse order: the
/// transaction (rolled back: it only read) before its connection.
struct live_jobs_snapshot {
  live_jobs_load load;
  std::unique_ptr<persistence::connection_watchdog> watchdog;
  std::unique_ptr<pqxx::connection> connection;
  std::unique_ptr<snapshot_transaction> txn;
  /// The cursors to read, in order, and the one being read.
  std::vector<std::string> cursors;
  std::size_t cursor = 0;
};

/// The longest a read may take before the watchdog cuts it (zero: no limit).
std::chrono::milliseconds call_limit(const live_jobs_load& load) {
  return load.statement_timeout.count() == 0 ? load.statement_timeout
                                             : load.statement_timeout + load.watchdog_grace;
}

std::unique_ptr<live_jobs_snapshot> open_snapshot(live_jobs_load load) {
  auto snap = std::make_unique<live_jobs_snapshot>();
  snap->load = std::move(load);
  auto limit = call_limit(snap->load);
  snap->watchdog = std::make_unique<persistence::connection_watchdog>(
      limit.count() == 0 ? limit : std::max(limit / 4, std::chrono::milliseconds{50}),
      "live_jobs_loader");
  snap->connection = std::make_unique<pqxx::connection>(snap->load.database_url);
  persistence::connection_watchdog::watch watched{*snap->watchdog,
                                                  snap->connection->sock(), limit};
  snap->txn = std::make_unique<snapshot_transaction>(*snap->connection, "live_jobs_load");
  // Names the session in pg_stat_activity for as long as the load runs.
  snap->txn->exec("SET LOCAL application_name = 'diffplane live jobs load'");
  if (snap->load.statement_timeout != snap->load.session_statement_timeout)
    snap->txn->exec("SET LOCAL statement_timeout = " +
                    std::to_string(snap->load.statement_timeout.count()));
  // The first statement of a REPEATABLE READ transaction takes its snapshot; the cursors
  // are planned and opened over it here, before the cluster serves.
  snap->cursors = persistence::sql::declare_live_jobs_cursors(
      *snap->txn, snap->load.cluster_id, snap->load.load_before);
  return snap;
}

/// A page read and being converted into jobs on a helper thread.
struct page_ahead {
  std::future<std::vector<job_record>> jobs;
  /// Fewer rows than the limit: the load's last page.
  bool last = false;
};

/// How many pages are read ahead of the cluster's requests: one being converted while
/// Postgres produces the next, so that Postgres, the conversion and the cluster's
/// admission of the page before all run at once.
constexpr std::size_t pages_ahead = 2;

struct loader_state {
  std::shared_ptr<live_jobs_snapshot> snap;
  /// The page size the cluster asks for (the same every time).
  std::int32_t limit = 0;
  std::deque<page_ahead> ahead;
  /// The last page has been read (it may still be ahead).
  bool exhausted = false;
  /// The error a read ended with; answered to the next request.
  caf::error failed;
  /// The live jobs of the whole load, counted after the first page (-1: not yet).
  std::int64_t total = -1;
  std::size_t pages = 0;
  static inline const char* name = "diffplane.live_jobs_loader";
};

using loader_pointer = live_jobs_loader::stateful_pointer<loader_state>;

/// Runs `fn` on the snapshot under the watchdog; a failure ends up in `st.failed`.
template <class Fn> void guarded(loader_state& st, Fn fn) {
  auto& snap = *st.snap;
  try {
    persistence::connection_watchdog::watch watched{
        *snap.watchdog, snap.connection->sock(), call_limit(snap.load)};
    fn(snap);
  } catch (const std::exception& e) {
    std::string reason = e.what();
    reason = reason.substr(0, reason.find('\n'));
    if (snap.watchdog->fired())
      reason = "the database did not answer within " +
               std::to_string(snap.load.statement_timeout.count()) + " ms";
    spdlog::error("event=read_failed actor=live_jobs_loader cluster={} reason=\"{}\"",
                  snap.load.cluster_id, reason);
    st.failed = make_error(error_code::unavailable,
                           "the live jobs could not be read: " + reason);
  }
}

/// Reads the rows of the next page (from one cursor or, where one ends, the next) and
/// starts converting them on a helper thread.
void read_page(loader_state& st) {
  std::vector<pqxx::result> parts;
  std::size_t rows = 0;
  auto limit = static_cast<std::size_t>(st.limit);
  guarded(st, [&](live_jobs_snapshot& snap) {
    while (snap.cursor < snap.cursors.size() && rows < limit) {
      auto wanted = limit - rows;
      auto part = persistence::sql::fetch_live_rows(*snap.txn, snap.cursors[snap.cursor],
                                                    static_cast<std::int32_t>(wanted));
      if (part.size() < wanted)
        ++snap.cursor;
      rows += part.size();
      parts.push_back(std::move(part));
    }
  });
  if (st.failed)
    return;
  st.exhausted = rows < limit;
  st.ahead.push_back(page_ahead{
      std::async(std::launch::async,
                 [parts = std::move(parts), rows]() mutable {
                   std::vector<job_record> jobs;
                   jobs.reserve(rows);
                   for (const auto& part : parts)
                     persistence::sql::append_jobs(part, jobs);
                   // The rows go now, not with the future: the pages ahead would
                   // otherwise hold them too, at the peak of the load's memory.
                   std::vector<pqxx::result>{}.swap(parts);
                   return jobs;
                 }),
      st.exhausted});
}

/// Whether another page may be read ahead now.
bool may_read_ahead(const loader_state& st) {
  return !st.exhausted && !st.failed && st.ahead.size() < pages_ahead;
}

live_jobs_loader::behavior_type loader_behavior(loader_pointer self,
                                                std::shared_ptr<live_jobs_snapshot> snap) {
  self->state.snap = std::move(snap);
  self->monitor(self->state.snap->load.cluster);
  self->set_down_handler([self](caf::down_msg&) { self->quit(); });
  return {
      [self](const live_jobs_page_request& request) -> caf::result<live_jobs_page> {
        auto& st = self->state;
        st.limit = std::max(request.limit, std::int32_t{1});
        if (st.ahead.empty() && may_read_ahead(st))
          read_page(st);
        auto promise = self->make_response_promise<live_jobs_page>();
        live_jobs_page page;
        bool last = true;
        if (!st.ahead.empty()) {
          auto next = std::move(st.ahead.front());
          st.ahead.pop_front();
          last = next.last;
          try {
            page.jobs = next.jobs.get();
          } catch (const std::exception& e) {
            spdlog::error("event=read_failed actor=live_jobs_loader cluster={} "
                          "reason=\"{}\"",
                          st.snap->load.cluster_id, e.what());
            st.failed = make_error(error_code::unavailable,
                                   "the live jobs could not be read: " +
                                       std::string{e.what()});
          }
          // A queued work's newest object is its resource's (a coalesced inform writes
          // no job row), read in the same snapshot as the jobs.
          if (!st.failed)
            guarded(st, [&](live_jobs_snapshot& snap) {
              persistence::sql::give_newest_work_args(*snap.txn, snap.load.cluster_id,
                                                      page.jobs);
            });
        }
        if (st.failed) {
          promise.deliver(st.failed);
          self->quit(st.failed);
          return promise;
        }
        page.total = st.total;
        ++st.pages;
        promise.deliver(std::move(page));
        if (last)
          self->quit();
        else if (may_read_ahead(st))
          self->send(self, prefetch_atom::value);
        return promise;
      },
      [self](prefetch_atom) {
        auto& st = self->state;
        // After the first page, so that the first poll after a restart waits for no
        // count; the cluster's cap counts the jobs not loaded yet from the next page on.
        if (st.total < 0 && !st.failed)
          guarded(st, [&](live_jobs_snapshot& snap) {
            st.total = persistence::sql::count_live_jobs(*snap.txn, snap.load.cluster_id,
                                                         snap.load.load_before);
          });
        if (!may_read_ahead(st))
          return;
        read_page(st);
        if (may_read_ahead(st))
          self->send(self, prefetch_atom::value);
      },
  };
}

} // namespace

live_jobs_loader spawn_live_jobs_loader(caf::actor_system& system, live_jobs_load load) {
  std::shared_ptr<live_jobs_snapshot> snap = open_snapshot(std::move(load));
  return system.spawn<caf::detached>(loader_behavior, std::move(snap));
}

} // namespace diffplane
