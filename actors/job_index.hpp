#pragma once

// Internal to the cluster actor: its index of the jobs it holds in memory.

#include "actors/held_bytes.hpp"
#include "actors/messages.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace diffplane::cluster_internal {

/// Names a pool of the cluster; never reused, so an id held after its pool retired
/// names no pool rather than another one (0: none).
using pool_id = std::uint64_t;

/// What the cluster knows of a job it holds in memory: a live one, or a finished one
/// whose result lingers for status polls.
struct job_entry {
  pool_id pool = 0;
  job_status status = job_status::pending;
  result_kind result_type = result_kind::none;
  /// False: an ephemeral job (job_record::durable), kept after it finished so that a
  /// late result of it writes no activity (it fits in the padding before `result`).
  bool durable = true;
  /// Its share of cluster_state::held: its job's arguments while live (its pool holds
  /// them), its result once finished. It too fits in the padding before `result`.
  byte_share bytes = 0;
  std::string result;
  /// Result waiters parked on this job.
  std::vector<std::uint64_t> waiters;
};

/// The cluster's jobs by id, in two tables: the live ones, which every message of a job
/// and every status poll looks up, and the finished ones, whose results linger
/// (result_linger, 30 s: about 230,000 of them at 7,800 jobs/s). One table of both cost
/// a few cache misses a lookup, the server's hottest function; the live table stays
/// small and cached. An entry moves between the tables without moving in memory (node
/// handles), so a pointer to it stays valid until it is dropped.
class job_index {
public:
  /// The entry of `id`, live or finished; null when neither.
  job_entry* find(const std::string& id) {
    if (auto it = live_.find(id); it != live_.end())
      return &it->second;
    if (auto it = finished_.find(id); it != finished_.end())
      return &it->second;
    return nullptr;
  }

  bool contains(const std::string& id) const {
    return live_.count(id) > 0 || finished_.count(id) > 0;
  }

  /// The entry of `id` if it is live.
  job_entry* find_live(const std::string& id) {
    auto it = live_.find(id);
    return it == live_.end() ? nullptr : &it->second;
  }

  /// The entry of `id` as a live one, made empty when new (true), or brought back from
  /// the finished table with its contents.
  std::pair<job_entry*, bool> enter_live(const std::string& id) {
    if (auto it = live_.find(id); it != live_.end())
      return {&it->second, false};
    if (auto node = finished_.extract(id); !node.empty())
      return {&live_.insert(std::move(node)).position->second, false};
    return {&live_.try_emplace(id).first->second, true};
  }

  /// Like enter_live for an id that no entry can have: one generated for a new job.
  job_entry& enter_new(const std::string& id) {
    return live_.try_emplace(id).first->second;
  }

  /// The entry of `id` as a finished one, made empty when new (true), or moved from the
  /// live table with its contents.
  std::pair<job_entry*, bool> enter_finished(const std::string& id) {
    if (auto node = live_.extract(id); !node.empty())
      return {&finished_.insert(std::move(node)).position->second, false};
    auto [it, is_new] = finished_.try_emplace(id);
    return {&it->second, is_new};
  }

  /// Drops the finished entry of `id` unless waiters hold it; a live one stays.
  /// Returns the share of held bytes the dropped entry counted (0: none dropped).
  byte_share drop_finished(const std::string& id) {
    auto it = finished_.find(id);
    if (it == finished_.end() || !it->second.waiters.empty())
      return 0;
    auto share = it->second.bytes;
    finished_.erase(it);
    return share;
  }

  /// Room for `count` live entries more.
  void reserve_live(std::size_t count) { live_.reserve(live_.size() + count); }

  std::size_t size() const { return live_.size() + finished_.size(); }

private:
  std::unordered_map<std::string, job_entry> live_;
  std::unordered_map<std::string, job_entry> finished_;
};

} // namespace diffplane::cluster_internal
