#include "persistence/write_batch.hpp"

#include "persistence/sql_clusters.hpp"
#include "persistence/sql_events.hpp"
#include "persistence/sql_jobs.hpp"
#include "persistence/sql_leases.hpp"
#include "persistence/sql_machines.hpp"
#include "persistence/sql_resource_events.hpp"
#include "persistence/sql_resource_namespaces.hpp"
#include "persistence/sql_resources.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace diffplane::persistence {

std::size_t write_batch::add(cluster_record row) {
  clusters_.push_back(std::move(row));
  items_.push_back({kind::cluster, clusters_.size() - 1});
  return items_.size() - 1;
}

std::size_t write_batch::add(cluster_settings_write row) {
  settings_.push_back(std::move(row));
  items_.push_back({kind::settings, settings_.size() - 1});
  return items_.size() - 1;
}

std::size_t write_batch::add(job_record row) {
  jobs_.push_back(std::move(row));
  items_.push_back({kind::job, jobs_.size() - 1});
  return items_.size() - 1;
}

std::size_t write_batch::add(job_state_write row) {
  job_states_.push_back(std::move(row));
  items_.push_back({kind::job_state, job_states_.size() - 1});
  return items_.size() - 1;
}

std::size_t write_batch::add(live_jobs_move row) {
  live_jobs_moves_.push_back(std::move(row));
  items_.push_back({kind::live_jobs_move, live_jobs_moves_.size() - 1});
  return items_.size() - 1;
}

std::size_t write_batch::add(machine_record row) {
  machines_.push_back(std::move(row));
  items_.push_back({kind::machine, machines_.size() - 1});
  return items_.size() - 1;
}

std::size_t write_batch::add(service_record row) {
  services_.push_back(std::move(row));
  items_.push_back({kind::service, services_.size() - 1});
  return items_.size() - 1;
}

std::size_t write_batch::add(std::vector<event_record> rows) {
  events_.push_back(std::move(rows));
  items_.push_back({kind::events, events_.size() - 1});
  return items_.size() - 1;
}

std::size_t write_batch::add(std::vector<client_event_record> rows) {
  client_events_.push_back(std::move(rows));
  items_.push_back({kind::client_events, client_events_.size() - 1});
  return items_.size() - 1;
}

std::size_t write_batch::add(resource_write write) {
  resources_.push_back(std::move(write));
  items_.push_back({kind::resources, resources_.size() - 1});
  return items_.size() - 1;
}

namespace {

// Keeps the last entry per key: a later upsert of the same row supersedes an earlier one,
// and one multi-row upsert must not touch a row twice.
template <class Row, class Key>
std::vector<const Row*> last_per_key(const std::vector<Row>& rows, Key key) {
  std::unordered_map<std::string, std::size_t> position;
  std::vector<const Row*> result;
  for (const auto& row : rows) {
    auto [it, fresh] = position.try_emplace(key(row), result.size());
    if (fresh)
      result.push_back(&row);
    else
      result[it->second] = &row;
  }
  return result;
}

} // namespace

bool write_batch::one_statement() const {
  return clusters_.empty() && settings_.empty() && machines_.empty() &&
         services_.empty() && events_.empty() && client_events_.empty() &&
         live_jobs_moves_.empty() && resources_.empty() &&
         std::all_of(jobs_.begin(), jobs_.end(),
                     [](const job_record& j) { return j.id_generated; });
}

std::vector<write_outcome> write_batch::execute(pqxx::transaction_base& txn) const {
  return execute(txn, nullptr, nullptr);
}

std::vector<std::string>
write_batch::execute_fenced(pqxx::transaction_base& txn, const std::string& node_id,
                            std::vector<write_outcome>& outcomes) const {
  if (!one_statement())
    throw std::logic_error{"write_batch::execute_fenced: the batch needs a transaction"};
  lease_gate gate{node_id, fences()};
  std::vector<std::string> held;
  outcomes = execute(txn, &gate, &held);
  std::vector<std::string> fenced;
  for (const auto& lease : gate.leases)
    if (std::find(held.begin(), held.end(), lease.cluster_id) == held.end())
      fenced.push_back(lease.cluster_id);
  return fenced;
}

std::vector<write_outcome> write_batch::execute(pqxx::transaction_base& txn,
                                                const lease_gate* gate,
                                                std::vector<std::string>* held) const {
  std::vector<write_outcome> outcomes(items_.size(), write_outcome{true, false});

  std::vector<const cluster_record*> clusters;
  for (const auto& c : clusters_)
    clusters.push_back(&c);
  sql::insert_clusters(txn, clusters);
  sql::insert_leases(txn, clusters);
  std::vector<const cluster_settings_write*> settings;
  for (const auto& w : settings_)
    settings.push_back(&w);
  sql::update_cluster_settings(txn, settings);
  sql::upsert_services(txn, last_per_key(services_, [](const service_record& s) {
                         return s.cluster_id + '/' + s.name;
                       }));
  sql::upsert_machines(txn, last_per_key(machines_, [](const machine_record& m) {
                         return m.cluster_id + '/' + m.id;
                       }));

  // The first insert of an id wins; a repeated id in the same batch is "not inserted",
  // exactly as if it had come in a later batch.
  std::vector<const job_record*> generated;
  std::vector<const job_record*> chosen;
  std::unordered_set<std::string> seen;
  for (const auto& j : jobs_)
    if (seen.insert(sql::job_key(j.cluster_id, j.id)).second)
      (j.id_generated ? generated : chosen).push_back(&j);
  auto inserted = sql::insert_or_skip_jobs(txn, chosen);

  std::unordered_map<std::string, const job_state_write*> newest;
  auto take_state = [&newest](const job_state_write& w) {
    auto& slot = newest[sql::job_key(w.cluster_id, w.id)];
    if (slot == nullptr || slot->revision < w.revision)
      slot = &w;
  };
  for (const auto& w : job_states_)
    take_state(w);
  // Work jobs withdrawn with their resources' removal end in the same statement.
  for (const auto& write : resources_)
    for (const auto& w : write.job_states)
      take_state(w);
  // write_jobs cannot update a row it inserts: such a job goes in with its newest state.
  std::vector<job_record> inserted_changed;
  inserted_changed.reserve(generated.size());
  for (auto& j : generated) {
    auto it = newest.find(sql::job_key(j->cluster_id, j->id));
    if (it == newest.end())
      continue;
    if (it->second->revision > j->revision) {
      auto& changed = inserted_changed.emplace_back(*j);
      apply(changed, *it->second);
      j = &changed;
    }
    newest.erase(it);
  }
  std::vector<const job_state_write*> states;
  for (const auto& [key, write] : newest)
    states.push_back(write);
  if (gate != nullptr)
    *held = sql::write_jobs(txn, generated, states, *gate);
  else
    sql::write_jobs(txn, generated, states);
  for (const auto* j : generated)
    inserted.insert(sql::job_key(j->cluster_id, j->id));

  write_resources(txn);

  // After the batch's job writes: a move sees every state sent before it.
  for (const auto& move : live_jobs_moves_)
    sql::move_live_jobs(txn, move);

  std::vector<const event_record*> events;
  for (const auto& group : events_)
    for (const auto& e : group)
      events.push_back(&e);
  sql::insert_events(txn, events);
  std::vector<const client_event_record*> client_events;
  for (const auto& group : client_events_)
    for (const auto& e : group)
      client_events.push_back(&e);
  sql::insert_client_events(txn, client_events);

  for (std::size_t i = 0; i < items_.size(); ++i)
    if (items_[i].what == kind::job) {
      const auto& j = jobs_[items_[i].slot];
      // Erasing makes a second insert of the same id in this batch report false.
      outcomes[i].inserted = inserted.erase(sql::job_key(j.cluster_id, j.id)) > 0;
    }
  return outcomes;
}

void write_batch::write_resources(pqxx::transaction_base& txn) const {
  if (resources_.empty())
    return;
  // Work jobs first: a resource row never names a job that is not there.
  std::vector<const job_record*> jobs;
  std::vector<const resource_kind_record*> kinds;
  std::vector<const resource_namespace_record*> namespaces;
  std::vector<const resource_key*> removed;
  std::unordered_map<std::string, const resource_record*> newest;
  for (const auto& write : resources_) {
    for (const auto& j : write.jobs)
      jobs.push_back(&j);
    for (const auto& k : write.kinds)
      kinds.push_back(&k);
    for (const auto& n : write.namespaces)
      namespaces.push_back(&n);
    for (const auto& k : write.removed)
      removed.push_back(&k);
    for (const auto& r : write.resources) {
      auto& slot = newest[r.cluster_id + '/' + r.kind + '/' + r.id];
      if (slot == nullptr || slot->revision < r.revision)
        slot = &r;
    }
  }
  sql::insert_or_skip_jobs(txn, jobs);
  // Before the rows: a resource removed and informed anew in one step starts over.
  sql::remove_resources(txn, removed);
  std::vector<const resource_record*> rows;
  rows.reserve(newest.size());
  for (const auto& [key, r] : newest)
    rows.push_back(r);
  sql::write_resources(txn, rows);
  sql::write_resource_kinds(txn, kinds);
  sql::write_resource_namespaces(txn, namespaces);
  // The state changes, in the same commit as the rows that changed.
  std::vector<const resource_event_record*> events;
  for (const auto& write : resources_)
    for (const auto& e : write.events)
      events.push_back(&e);
  sql::insert_resource_events(txn, events);
}

bool write_batch::is_generated_job(std::size_t index) const {
  const auto& it = items_.at(index);
  return it.what == kind::job && jobs_[it.slot].id_generated;
}

const std::string& write_batch::cluster_of(std::size_t index) const {
  static const std::string none;
  const auto& it = items_.at(index);
  switch (it.what) {
  case kind::cluster:
    return clusters_[it.slot].id;
  case kind::settings:
    return settings_[it.slot].cluster_id;
  case kind::job:
    return jobs_[it.slot].cluster_id;
  case kind::job_state:
    return job_states_[it.slot].cluster_id;
  case kind::live_jobs_move:
    return live_jobs_moves_[it.slot].cluster_id;
  case kind::machine:
    return machines_[it.slot].cluster_id;
  case kind::service:
    return services_[it.slot].cluster_id;
  case kind::events:
    return events_[it.slot].empty() ? none : events_[it.slot].front().cluster_id;
  case kind::client_events:
    return client_events_[it.slot].empty() ? none
                                           : client_events_[it.slot].front().cluster_id;
  case kind::resources:
    return resources_[it.slot].cluster_id;
  }
  return none;
}

void write_batch::fence(std::size_t index, std::int64_t epoch) {
  items_.at(index).epoch = epoch;
}

std::vector<held_lease> write_batch::fences() const {
  std::vector<held_lease> result;
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < items_.size(); ++i)
    if (items_[i].epoch != 0 && seen.insert(cluster_of(i)).second)
      result.push_back({cluster_of(i), items_[i].epoch});
  return result;
}

write_batch write_batch::select(const std::vector<std::size_t>& indices) const {
  write_batch part;
  for (auto index : indices)
    part.add_copy(*this, index);
  return part;
}

write_batch write_batch::slice(std::size_t begin, std::size_t end) const {
  write_batch part;
  for (auto index = begin; index < end; ++index)
    part.add_copy(*this, index);
  return part;
}

void write_batch::add_copy(const write_batch& from, std::size_t index) {
  const auto& it = from.items_.at(index);
  switch (it.what) {
  case kind::cluster:
    add(from.clusters_[it.slot]);
    break;
  case kind::settings:
    add(from.settings_[it.slot]);
    break;
  case kind::job:
    add(from.jobs_[it.slot]);
    break;
  case kind::job_state:
    add(from.job_states_[it.slot]);
    break;
  case kind::live_jobs_move:
    add(from.live_jobs_moves_[it.slot]);
    break;
  case kind::machine:
    add(from.machines_[it.slot]);
    break;
  case kind::service:
    add(from.services_[it.slot]);
    break;
  case kind::events:
    add(from.events_[it.slot]);
    break;
  case kind::client_events:
    add(from.client_events_[it.slot]);
    break;
  case kind::resources:
    add(from.resources_[it.slot]);
    break;
  }
  items_.back().epoch = it.epoch;
}

} // namespace diffplane::persistence
