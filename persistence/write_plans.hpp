#pragma once

#include <chrono>
#include <span>
#include <utility>

namespace pqxx {
class connection_base;
}

namespace diffplane::persistence {

/// Makes `connection` plan as group commit needs: its statements are prepared and
/// planned once per session (a generic plan), and only in key-driven shapes, each row
/// found through its key index, so that one plan suits every batch at any table size.
void plan_for_writes(pqxx::connection_base& connection);

/// The session settings plan_for_writes makes, as (name, value), for a session that
/// libpqxx does not drive (benchtool commit-pipeline).
std::span<const std::pair<const char*, const char*>> write_plan_settings();

/// Makes the plans of such a session again when they are older than `interval`, at
/// the next use of each statement. A generic plan keeps the shape the tables' size and
/// statistics gave it when it was made: made on a young table, the job write looked its
/// rows up through an index on cluster_id alone (any index fits a young table), which
/// reads every job of the cluster once the table has grown.
class write_plan_refresh {
public:
  explicit write_plan_refresh(std::chrono::steady_clock::duration interval)
      : interval_(interval) {}

  /// Called before each use of the session: one round trip when the plans are due.
  void before_use(pqxx::connection_base& connection,
                  std::chrono::steady_clock::time_point now);
  /// The session is new: its plans are made from now on.
  void reset(std::chrono::steady_clock::time_point now) { made_ = now; }

private:
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point made_{};
};

/// Statements that give a read transaction of such a session the usual planner back:
/// every plan made for its own parameters, in any shape.
extern const char* const plan_for_reads;

} // namespace diffplane::persistence
