#include "actors/node_actor.hpp"

#include "actors/secrets.hpp"
#include "actors/wall_clock.hpp"
#include "persistence/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <unordered_map>

namespace diffplane {

namespace {

using steady_time = caf::actor_clock::time_point;

// A crashed cluster is restarted after first_restart_wait, the wait doubling with every
// restart in the last crash_memory up to node_options::max_restart_backoff; and never
// more than max_restarts_per_window times in any restart_window, however the doubling
// falls. A single crash is thus restarted quickly, while a crash loop (each restart a
// full load from Postgres) settles at one restart per max_restart_backoff.
constexpr auto first_restart_wait = std::chrono::milliseconds{200};
constexpr std::size_t max_restarts_per_window = 5;
constexpr auto restart_window = std::chrono::seconds{60};
constexpr auto crash_memory = std::chrono::minutes{10};

struct cluster_slot {
  cluster_record record;
  /// Invalid while the cluster is down or waiting for a restart.
  cluster_actor actor;
  bool ready = false;
  /// When the cluster was restarted after a crash, oldest first, for crash_memory.
  std::deque<steady_time> restarts;
  /// POST /clusters requests answered once the new cluster is ready.
  std::vector<caf::typed_response_promise<cluster_record>> creators;
};

struct node_state {
  node_options options;
  persistence_factory factory;
  persistence_actor writer;
  persistence_actor reader;
  parked_counter parked = std::make_shared<std::atomic<std::size_t>>(0);
  std::unordered_map<std::string, cluster_slot> clusters;
  std::unordered_map<std::string, std::string> id_by_secret_hash;
  std::unordered_map<caf::actor_addr, std::string> id_by_address;
  bool loaded = false;
  std::vector<caf::typed_response_promise<done_atom>> ready_waiters;
  /// Set by stop: clusters going down are not restarted.
  bool stopping = false;
  caf::typed_response_promise<done_atom> stop_promise;
  static inline const char* name = "diffplane.node";
};

using self_pointer = node_actor::stateful_pointer<node_state>;

void start_cluster(self_pointer self, const std::string& id) {
  auto& st = self->state;
  auto& slot = st.clusters.at(id);
  slot.ready = false;
  slot.actor = spawn_cluster(self, cluster_context{slot.record, st.writer, st.reader,
                                                   self, st.options.domain, st.parked});
  st.id_by_address[slot.actor.address()] = id;
}

void add_cluster(self_pointer self, cluster_record record) {
  auto& st = self->state;
  auto id = record.id;
  st.id_by_secret_hash[secrets::sha256(record.api_secret)] = id;
  st.clusters[id].record = std::move(record);
  start_cluster(self, id);
}

bool all_ready(const node_state& st) {
  return st.loaded && std::all_of(st.clusters.begin(), st.clusters.end(),
                                  [](const auto& kv) { return kv.second.ready; });
}

void deliver_ready(node_state& st) {
  if (!all_ready(st))
    return;
  for (auto& promise : st.ready_waiters)
    promise.deliver(done_atom::value);
  st.ready_waiters.clear();
}

void spawn_persistence_actors(self_pointer self) {
  auto& st = self->state;
  st.writer = st.factory(self->system(), "writer");
  st.reader = st.factory(self->system(), "reader");
  self->monitor(st.writer);
  self->monitor(st.reader);
}

void finish_stop_when_clusters_down(self_pointer self) {
  auto& st = self->state;
  if (!st.stopping || !st.id_by_address.empty())
    return;
  // A ping queues behind every write already sent, so its answer means all committed.
  auto done = [self](caf::error err) {
    auto& st = self->state;
    if (err)
      st.stop_promise.deliver(err);
    else
      st.stop_promise.deliver(done_atom::value);
    self->send_exit(st.writer, caf::exit_reason::user_shutdown);
    self->send_exit(st.reader, caf::exit_reason::user_shutdown);
    self->quit();
  };
  self->request(st.writer, caf::infinite, ping_atom::value)
      .then([done](done_atom) { done(caf::error{}); },
            [done](caf::error& err) { done(err); });
}

void on_down(self_pointer self, caf::down_msg& msg) {
  auto& st = self->state;
  if (msg.source == st.writer.address() || msg.source == st.reader.address()) {
    if (st.stopping)
      return;
    spdlog::error("event=persistence_down reason=\"{}\" action=restart_all",
                  caf::to_string(msg.reason));
    self->demonitor(st.writer.address());
    self->demonitor(st.reader.address());
    self->send_exit(st.writer, caf::exit_reason::kill);
    self->send_exit(st.reader, caf::exit_reason::kill);
    spawn_persistence_actors(self);
    // Clusters hold the old handles; they reload from the database with the new ones.
    for (auto& [id, slot] : st.clusters) {
      if (slot.actor) {
        self->demonitor(slot.actor.address());
        st.id_by_address.erase(slot.actor.address());
        self->send_exit(slot.actor, caf::exit_reason::kill);
      }
      start_cluster(self, id);
    }
    return;
  }
  auto it = st.id_by_address.find(msg.source);
  if (it == st.id_by_address.end())
    return;
  auto id = it->second;
  st.id_by_address.erase(it);
  auto& slot = st.clusters.at(id);
  slot.actor = nullptr;
  slot.ready = false;
  if (st.stopping) {
    finish_stop_when_clusters_down(self);
    return;
  }
  auto now = self->clock().now();
  while (!slot.restarts.empty() && now - slot.restarts.front() > crash_memory)
    slot.restarts.pop_front();
  auto doublings = std::min<std::size_t>(slot.restarts.size(), 16);
  auto wait = std::min(std::chrono::milliseconds{first_restart_wait * (1 << doublings)},
                       st.options.max_restart_backoff);
  // The restart that would be the next one too many in a window waits for the oldest
  // of the window's restarts to leave it.
  if (slot.restarts.size() >= max_restarts_per_window) {
    auto oldest = slot.restarts[slot.restarts.size() - max_restarts_per_window];
    wait = std::max(wait, std::chrono::ceil<std::chrono::milliseconds>(
                              oldest + restart_window - now));
  }
  spdlog::error(
      "event=cluster_down cluster={} reason=\"{}\" action=restart backoff_ms={}", id,
      caf::to_string(msg.reason), wait.count());
  self->delayed_send(self, wait, restart_atom::value, id);
}

caf::result<cluster_record> create_cluster(self_pointer self, std::string& description) {
  cluster_record record;
  record.id = secrets::new_cluster_id();
  record.api_secret = secrets::new_api_secret();
  record.description = std::move(description);
  record.created_at = wall_clock_ms();
  auto promise = self->make_response_promise<cluster_record>();
  self->request(self->state.writer, caf::infinite, record)
      .then(
          [self, promise, record](done_atom) mutable {
            spdlog::info("event=cluster_created cluster={}", record.id);
            self->state.clusters[record.id].creators.push_back(promise);
            add_cluster(self, record);
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

node_actor::behavior_type node_behavior(self_pointer self, node_options options,
                                        persistence_factory factory) {
  auto& st = self->state;
  st.options = std::move(options);
  st.factory = std::move(factory);
  if (st.options.parked)
    st.parked = st.options.parked;
  spawn_persistence_actors(self);
  // The first pruning waits a little so that start-up is not slowed by it.
  if (st.options.activity_retention_hours > 0 ||
      st.options.domain.machine_retention.count() > 0)
    self->delayed_send(self, std::chrono::minutes{1}, prune_atom::value);
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  // Children are monitored, not linked; when the node is told to exit, they go with it.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    st.stopping = true;
    for (auto& [id, slot] : st.clusters)
      if (slot.actor)
        self->send_exit(slot.actor, msg.reason);
    self->send_exit(st.writer, msg.reason);
    self->send_exit(st.reader, msg.reason);
    self->quit(msg.reason);
  });
  self->request(st.writer, caf::infinite, load_clusters_atom::value)
      .then(
          [self](std::vector<cluster_record>& records) {
            for (auto& record : records)
              add_cluster(self, std::move(record));
            self->state.loaded = true;
            deliver_ready(self->state);
          },
          [self](caf::error& err) {
            spdlog::error("event=clusters_load_failed reason=\"{}\"", message_of(err));
            for (auto& promise : self->state.ready_waiters)
              promise.deliver(err);
            self->quit(err);
          });
  return {
      [self](authenticate_atom,
             const std::string& secret_hash) -> caf::result<std::string, cluster_actor> {
        auto& st = self->state;
        auto it = st.id_by_secret_hash.find(secret_hash);
        if (it == st.id_by_secret_hash.end())
          return make_error(error_code::unauthorized, "unknown API secret");
        auto& slot = st.clusters.at(it->second);
        if (!slot.ready)
          return make_error(error_code::unavailable,
                            "cluster " + it->second + " is starting; retry shortly");
        return {it->second, slot.actor};
      },
      [self](create_cluster_atom, std::string& description) {
        return create_cluster(self, description);
      },
      [self](list_clusters_atom) {
        std::vector<cluster_record> records;
        for (const auto& [id, slot] : self->state.clusters)
          records.push_back(slot.record);
        std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
          return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
        });
        return records;
      },
      [self](lookup_atom, const std::string& id) -> caf::result<cluster_actor> {
        auto it = self->state.clusters.find(id);
        if (it == self->state.clusters.end())
          return make_error(error_code::not_found, "cluster " + id + " not found");
        if (!it->second.ready)
          return make_error(error_code::unavailable, "cluster " + id + " is starting");
        return it->second.actor;
      },
      [self](prune_atom) {
        auto hours = self->state.options.activity_retention_hours;
        auto machine_hours = static_cast<std::int32_t>(
            self->state.options.domain.machine_retention.count());
        self->request(self->state.reader, caf::infinite, prune_atom::value, hours,
                      machine_hours)
            .then(
                [hours, machine_hours](std::int64_t deleted) {
                  spdlog::info("event=activity_pruned deleted={} older_than_hours={} "
                               "machines_older_than_hours={}",
                               deleted, hours, machine_hours);
                },
                [](caf::error& err) {
                  spdlog::warn("event=activity_prune_failed reason=\"{}\"",
                               message_of(err));
                });
        self->delayed_send(self, std::chrono::hours{1}, prune_atom::value);
      },
      [self](live_atom) { return self->delegate(self->state.reader, ping_atom::value); },
      [self](await_ready_atom) -> caf::result<done_atom> {
        if (all_ready(self->state))
          return done_atom::value;
        auto promise = self->make_response_promise<done_atom>();
        self->state.ready_waiters.push_back(promise);
        return promise;
      },
      [self](cluster_ready_atom, const std::string& id) {
        auto it = self->state.clusters.find(id);
        if (it == self->state.clusters.end())
          return;
        it->second.ready = true;
        for (auto& promise : it->second.creators)
          promise.deliver(it->second.record);
        it->second.creators.clear();
        deliver_ready(self->state);
      },
      [self](restart_atom, const std::string& id) {
        auto it = self->state.clusters.find(id);
        if (it != self->state.clusters.end() && !it->second.actor &&
            !self->state.stopping) {
          it->second.restarts.push_back(self->clock().now());
          start_cluster(self, id);
        }
      },
      [self](release_atom) {
        for (auto& [id, slot] : self->state.clusters)
          if (slot.actor)
            self->send(slot.actor, release_atom::value);
      },
      [self](stop_atom) -> caf::result<done_atom> {
        auto& st = self->state;
        st.stopping = true;
        st.stop_promise = self->make_response_promise<done_atom>();
        for (auto& [id, slot] : st.clusters)
          if (slot.actor)
            self->send_exit(slot.actor, caf::exit_reason::user_shutdown);
        finish_stop_when_clusters_down(self);
        return st.stop_promise;
      },
  };
}

} // namespace

node_actor spawn_node(caf::actor_system& system, node_options options,
                      persistence_factory factory) {
  return system.spawn(node_behavior, std::move(options), std::move(factory));
}

} // namespace diffplane
