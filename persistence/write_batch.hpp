#pragma once

#include "persistence/membership_records.hpp"
#include "persistence/records.hpp"
#include "persistence/resource_records.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace diffplane::persistence {

/// What became of one write of a batch.
struct write_outcome {
  bool ok = false;
  /// For a job insert: whether the row was new (false: the id existed already).
  bool inserted = false;
};

/// The writes of many actors gathered for one transaction (group commit). Each add_*
/// returns the write's index, under which execute() reports its outcome.
class write_batch {
public:
  std::size_t add(cluster_record row);
  std::size_t add(cluster_settings_write row);
  std::size_t add(job_record row);
  std::size_t add(job_state_write row);
  std::size_t add(live_jobs_move row);
  std::size_t add(machine_record row);
  std::size_t add(service_record row);
  std::size_t add(std::vector<event_record> rows);
  std::size_t add(std::vector<client_event_record> rows);
  std::size_t add(resource_write write);

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

  /// Runs every write in `txn` as a few multi-row statements, parents before children,
  /// each job's newest state after its insert, and live_jobs moves after every job
  /// write (so a move sees them all); throws what libpqxx throws.
  std::vector<write_outcome> execute(pqxx::transaction_base& txn) const;

  /// As execute(), for a one_statement() batch, in one statement that writes only while
  /// `node_id` holds every lease the batch is fenced under (fences()), checked and
  /// locked by the statement itself. Answers the clusters of the leases it does not
  /// hold, in which case it wrote nothing.
  std::vector<std::string> execute_fenced(pqxx::transaction_base& txn,
                                          const std::string& node_id,
                                          std::vector<write_outcome>& outcomes) const;

  /// Whether execute() runs one statement at most, which commits on its own: only job
  /// inserts with generated ids and job state writes (write_jobs).
  bool one_statement() const;

  /// The writes [begin, end) as a batch of their own, to isolate a failing write.
  write_batch slice(std::size_t begin, std::size_t end) const;

  /// Whether write `index` inserts a job whose id the server generated.
  bool is_generated_job(std::size_t index) const;

  /// The cluster write `index` belongs to.
  const std::string& cluster_of(std::size_t index) const;
  /// Records the lease epoch under which write `index` was sent; writes without one (a
  /// new cluster) are not fenced.
  void fence(std::size_t index, std::int64_t epoch);
  std::int64_t epoch_of(std::size_t index) const { return items_.at(index).epoch; }
  /// Every (cluster, epoch) under which fenced writes of the batch were sent, once each.
  std::vector<held_lease> fences() const;
  /// The writes at `indices`, in that order, as a batch of their own.
  write_batch select(const std::vector<std::size_t>& indices) const;

private:
  /// execute(); with `gate`, only for a one_statement() batch, whose statement then
  /// answers the clusters of the gate's leases it holds into `held`.
  std::vector<write_outcome> execute(pqxx::transaction_base& txn, const lease_gate* gate,
                                     std::vector<std::string>* held) const;
  /// The resource writes: their work jobs, coalesced arguments, then the rows.
  void write_resources(pqxx::transaction_base& txn) const;

  enum class kind {
    cluster,
    settings,
    job,
    job_state,
    live_jobs_move,
    machine,
    service,
    events,
    client_events,
    resources
  };
  struct item {
    kind what;
    std::size_t slot;
    std::int64_t epoch = 0;
  };

  /// Appends a copy of write `index` of `from`, with its fence.
  void add_copy(const write_batch& from, std::size_t index);

  std::vector<item> items_;
  std::vector<cluster_record> clusters_;
  std::vector<cluster_settings_write> settings_;
  std::vector<job_record> jobs_;
  std::vector<job_state_write> job_states_;
  std::vector<live_jobs_move> live_jobs_moves_;
  std::vector<machine_record> machines_;
  std::vector<service_record> services_;
  std::vector<std::vector<event_record>> events_;
  std::vector<std::vector<client_event_record>> client_events_;
  std::vector<resource_write> resources_;
};

} // namespace diffplane::persistence
