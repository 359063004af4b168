#pragma once

#include "persistence/membership_records.hpp"
#include "persistence/records.hpp"

#include <cstdint>
#include <random>
#include <string>

namespace pqxx {
class connection_base;
}

namespace diffplane::bench {

/// The scratch cluster of benchtool commit-pipeline, its lease and the node that holds
/// it: the gate its writes are fenced under, as the server's writer fences them.
struct scratch {
  lease_gate gate;
  std::string cluster_id;
};

/// Brings the database up to date and makes a new scratch cluster, held by a new node.
scratch make_scratch(pqxx::connection_base& admin);

/// Jobs as a cluster creates them (ids in creation order, loadgen's arguments), and
/// their results as a worker posts them (dispatched, then resolved: revision 3).
class job_source {
public:
  explicit job_source(std::string cluster_id) : cluster_(std::move(cluster_id)) {}

  job_record create();
  static job_state_write result_of(const job_record& j);

private:
  std::string cluster_;
  std::mt19937_64 random_{std::random_device{}()};
  std::uint64_t sequence_ = 0;
};

} // namespace diffplane::bench
