#include "actors/node_actor.hpp"

#include "actors/mesh.hpp"
#include "actors/ownership.hpp"
#include "actors/secrets.hpp"
#include "actors/wall_clock.hpp"
#include "metrics/catalog.hpp"
#include "persistence/errors.hpp"

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>

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
  /// Invalid while the cluster is not served here, down, or waiting for a restart.
  cluster_actor actor;
  bool ready = false;
  /// The epoch of the cluster's lease this node holds; 0: it holds none.
  std::int64_t epoch = 0;
  /// When the lease runs out by this node's clock unless renewed: the time its last
  /// renewal was sent plus the TTL, less a margin. The database's expiry comes later.
  steady_time valid_until;
  /// The actor is stopping (lease lost or handed off); nothing is decided about the
  /// cluster until it is down and, for a hand-off, the lease released.
  bool stopping = false;
  bool handing_off = false;
  /// An acquisition is in flight. A second one would take the next epoch behind the
  /// first one's back and get the first one's writes fenced.
  bool acquiring = false;
  /// The lease was acquired after its last holder released it: the next start adopts
  /// the attempts found running (cluster_context::adopt_running_attempts).
  bool adopt_running_attempts = false;
  /// When this node last handed the cluster off: a round read before then still shows
  /// the lease as this node's, and must not take it back.
  std::optional<steady_time> handed_off_at;
  /// When the cluster was restarted after a crash, oldest first, for crash_memory.
  std::deque<steady_time> restarts;
  /// POST /clusters requests answered once the new cluster is ready.
  std::vector<caf::typed_response_promise<cluster_record>> creators;
  /// Serves the cluster's requests wherever it is served (made on first need).
  cluster_actor forwarder;
};

/// Another node of the mesh, as this node reaches it.
struct peer {
  mesh_gate_actor gate;
  bool connecting = false;
};

struct node_state {
  node_options options;
  persistence_factory factory;
  lease_keeper_factory keeper_factory;
  /// The leases served here and their local deadlines, shared with the keeper, which
  /// renews them even while this actor's thread is busy elsewhere.
  std::shared_ptr<lease_ledger> ledger = std::make_shared<lease_ledger>();
  persistence_actor writer;
  persistence_actor reader;
  lease_keeper_actor keeper;
  parked_counter parked = std::make_shared<std::atomic<std::size_t>>(0);
  std::unordered_map<std::string, cluster_slot> clusters;
  std::unordered_map<std::string, std::string> id_by_secret_hash;
  std::unordered_map<caf::actor_addr, std::string> id_by_address;
  std::unordered_map<caf::actor_addr, std::string> id_by_forwarder;
  /// The peers this node has reached, by node id.
  std::unordered_map<std::string, peer> peers;
  std::unordered_map<caf::actor_addr, std::string> peer_by_gate;
  /// Peers whose gate went down (killed, or cut off from this node): their leases run
  /// until the database's clock ends them, which a heartbeat round may see up to a
  /// heartbeat late.
  std::unordered_set<std::string> down_peers;
  /// When a round goes early: just after the first lease of a down peer runs out.
  std::optional<steady_time> early_round_at;
  /// When the next heartbeat round is due.
  steady_time next_round_at{};
  bool loaded = false;
  /// Whether a membership round has answered, and acquisitions in flight: start-up is
  /// over once the first round's acquisitions have loaded.
  bool first_round_done = false;
  std::size_t acquiring = 0;
  bool round_in_flight = false;
  /// When the last membership round was sent (zero: none yet): a lease that runs out
  /// tells whether its round was slow to answer or late to go.
  steady_time round_sent{};
  /// Another node was live at some round: clusters it creates are learnt by reading
  /// them again, even once it is dead or frozen (an unknown API secret is not proof).
  bool seen_other_nodes = false;
  /// The last membership round's view.
  membership_view view;
  /// Authentications of secrets not known here, waiting for the clusters to be read
  /// again (one just created on another node).
  using auth_promise = caf::typed_response_promise<std::string, cluster_actor>;
  std::vector<std::pair<std::string, auth_promise>> unknown_secrets;
  bool reloading = false;
  std::optional<steady_time> last_reload;
  /// Secrets wait for a read that was refused as too soon after the last one: the next
  /// heartbeat reads the clusters again.
  bool reload_wanted = false;
  std::vector<caf::typed_response_promise<done_atom>> ready_waiters;
  /// Set by stop: clusters going down are not restarted.
  bool stopping = false;
  caf::typed_response_promise<done_atom> stop_promise;
  static inline const char* name = "diffplane.node";
};

using self_pointer = node_actor::stateful_pointer<node_state>;

const membership_options& membership(self_pointer self) {
  return self->state.options.membership;
}

void start_cluster(self_pointer self, const std::string& id) {
  auto& st = self->state;
  auto& slot = st.clusters.at(id);
  slot.ready = false;
  // Only the first start after the acquisition: a cluster restarted after a crash lost
  // its attempts' actors, and counts them as stalled.
  auto adopt = std::exchange(slot.adopt_running_attempts, false);
  slot.actor =
      spawn_cluster(self, cluster_context{slot.record, st.writer, st.reader, self,
                                          st.options.domain, st.parked, adopt});
  st.id_by_address[slot.actor.address()] = id;
}

/// Learns a cluster (its record and secret); it is served here once its lease is.
void add_record(self_pointer self, cluster_record record) {
  auto& st = self->state;
  auto id = record.id;
  st.id_by_secret_hash[secrets::sha256(record.api_secret)] = id;
  st.clusters[id].record = std::move(record);
}

bool all_ready(const node_state& st) {
  return st.loaded && st.first_round_done && st.acquiring == 0 &&
         std::all_of(st.clusters.begin(), st.clusters.end(), [](const auto& kv) {
           const auto& slot = kv.second;
           return slot.epoch == 0 || slot.stopping || slot.ready;
         });
}

void connect_peers(self_pointer self);

void deliver_ready(node_state& st) {
  if (!all_ready(st))
    return;
  for (auto& promise : st.ready_waiters)
    promise.deliver(done_atom::value);
  st.ready_waiters.clear();
}

/// Tells the writer the epoch under which this node writes the cluster (0: none).
void tell_writer_epoch(self_pointer self, const std::string& id, std::int64_t epoch) {
  self->send(self->state.writer, lease_epoch_atom::value, id, epoch);
}

void spawn_persistence_actors(self_pointer self) {
  auto& st = self->state;
  st.writer = st.factory(self->system(), "writer");
  st.reader = st.factory(self->system(), "reader");
  self->monitor(st.writer);
  self->monitor(st.reader);
  // A new writer knows no lease yet.
  for (const auto& [id, slot] : st.clusters)
    if (slot.epoch > 0)
      tell_writer_epoch(self, id, slot.epoch);
}

steady_time lease_deadline(self_pointer self, steady_time renewal_sent) {
  return lease_valid_until(renewal_sent, membership(self).lease_ttl);
}

std::size_t leases_held(const node_state& st) {
  return static_cast<std::size_t>(
      std::count_if(st.clusters.begin(), st.clusters.end(),
                    [](const auto& kv) { return kv.second.epoch > 0; }));
}

void update_lease_gauge(const node_state& st) {
  metrics::leases().held.set(static_cast<double>(leases_held(st)));
}

/// The lease of `id` was acquired at `epoch`: serve the cluster.
void take_lease(self_pointer self, const std::string& id, const lease_grant& grant,
                steady_time sent) {
  auto& slot = self->state.clusters.at(id);
  auto epoch = grant.epoch;
  slot.epoch = epoch;
  slot.adopt_running_attempts = grant.released;
  slot.valid_until = lease_deadline(self, sent);
  self->state.ledger->hold(id, epoch, slot.valid_until);
  slot.restarts.clear();
  metrics::leases().acquisitions.add();
  update_lease_gauge(self->state);
  spdlog::info("event=lease_acquired cluster={} epoch={} node={} released_before={}", id,
               epoch, membership(self).node_id, grant.released);
  // Before the cluster loads: its first write must find the epoch.
  tell_writer_epoch(self, id, epoch);
  start_cluster(self, id);
}

/// The lease of `id` is no longer this node's (or is being handed off): answer the
/// cluster's parked requests and stop its actor. A lost lease is forgotten at once, so
/// that the writer refuses whatever the actor still sends; a handed-off one is released
/// once the actor is down and its writes committed (on_cluster_stopped).
void stop_cluster(self_pointer self, const std::string& id, bool hand_off,
                  const char* reason) {
  auto& st = self->state;
  auto& slot = st.clusters.at(id);
  if (slot.stopping)
    return;
  // Not renewed any more by the keeper's timer (a hand-off's rounds still renew it).
  st.ledger->drop(id);
  spdlog::warn("event={} cluster={} epoch={} reason=\"{}\"",
               hand_off ? "lease_hand_off" : "lease_lost", id, slot.epoch, reason);
  slot.stopping = true;
  slot.handing_off = hand_off;
  slot.ready = false;
  if (!hand_off) {
    metrics::leases().lost.add();
    slot.epoch = 0;
    update_lease_gauge(st);
    tell_writer_epoch(self, id, 0);
  }
  for (auto& promise : slot.creators)
    promise.deliver(slot.record);
  slot.creators.clear();
  if (slot.actor) {
    // Gently, a lost lease too: new client requests are refused as `moved` (the gateway
    // tries them again where the cluster goes), parked ones are answered, and the actor
    // quits only once the writes in flight answered it, so that each request in flight
    // gets its true answer. A write the database took passed the fencing check, so its
    // acknowledgement is sound; a killed actor left its caller waiting for its deadline
    // while the write it made committed. A lost lease waits at most a TTL for them: the
    // database may be what is gone.
    auto actor = slot.actor;
    self->send(actor, quiesce_atom::value);
    self->send(actor, release_atom::value);
    auto stopped = [self, actor](done_atom) { self->send(actor, stop_atom::value); };
    auto failed = [self, actor](caf::error&) { self->send(actor, stop_atom::value); };
    if (hand_off)
      self->request(st.writer, caf::infinite, ping_atom::value).then(stopped, failed);
    else
      self->request(st.writer, membership(self).lease_ttl, ping_atom::value)
          .then(stopped, failed);
    return;
  }
  // Down already (waiting for a restart).
  self->send(self, restart_atom::value, id);
}

/// The actor of a stopping cluster is down: a hand-off now commits what the actor sent
/// and releases the lease, so that the next owner loads all of it.
void on_cluster_stopped(self_pointer self, const std::string& id) {
  auto& slot = self->state.clusters.at(id);
  if (!slot.handing_off) {
    slot.stopping = false;
    deliver_ready(self->state);
    return;
  }
  held_lease lease{id, slot.epoch};
  auto finish = [self, id] {
    auto& slot = self->state.clusters.at(id);
    slot.stopping = false;
    slot.handing_off = false;
    slot.handed_off_at = self->clock().now();
    slot.epoch = 0;
    update_lease_gauge(self->state);
    tell_writer_epoch(self, id, 0);
    deliver_ready(self->state);
  };
  // A ping queues behind every write the actor sent, held dispatches included.
  self->request(self->state.writer, caf::infinite, ping_atom::value)
      .then(
          [self, lease, finish](done_atom) {
            self->request(self->state.keeper, membership(self).lease_ttl,
                          release_lease_atom::value, lease)
                .then(
                    [finish, lease](done_atom) {
                      metrics::leases().hand_offs.add();
                      spdlog::info("event=lease_released cluster={} epoch={}",
                                   lease.cluster_id, lease.epoch);
                      finish();
                    },
                    // Unreleased, the lease simply runs out.
                    [finish](caf::error&) { finish(); });
          },
          [finish](caf::error&) { finish(); });
}

void exit_children(self_pointer self, const caf::error& reason) {
  auto& st = self->state;
  for (auto& [id, slot] : st.clusters)
    if (slot.forwarder)
      self->send_exit(slot.forwarder, reason);
  self->send_exit(st.writer, reason);
  self->send_exit(st.reader, reason);
  self->send_exit(st.keeper, reason);
}

void finish_stop_when_clusters_down(self_pointer self) {
  auto& st = self->state;
  if (!st.stopping || !st.id_by_address.empty())
    return;
  auto done = [self](caf::error err) {
    auto& st = self->state;
    if (err)
      st.stop_promise.deliver(err);
    else
      st.stop_promise.deliver(done_atom::value);
    exit_children(self, caf::exit_reason::user_shutdown);
    self->quit();
  };
  // A ping queues behind every write already sent, so its answer means all committed;
  // only then does the node leave and end its leases, so that the next owners of its
  // clusters load everything at once rather than after the lease TTL.
  self->request(st.writer, caf::infinite, ping_atom::value)
      .then(
          [self, done](done_atom) {
            self->request(self->state.keeper, membership(self).lease_ttl,
                          leave_atom::value)
                .then([done](done_atom) { done(caf::error{}); },
                      [done](caf::error& err) { done(err); });
          },
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
        slot.actor = nullptr;
      }
      if (slot.stopping)
        on_cluster_stopped(self, id);
      else if (slot.epoch > 0)
        start_cluster(self, id);
    }
    return;
  }
  if (auto it = st.id_by_forwarder.find(msg.source); it != st.id_by_forwarder.end()) {
    st.clusters.at(it->second).forwarder = nullptr;
    st.id_by_forwarder.erase(it);
    return;
  }
  if (auto it = st.peer_by_gate.find(msg.source); it != st.peer_by_gate.end()) {
    spdlog::warn("event=peer_down node={} reason=\"{}\"", it->second,
                 caf::to_string(msg.reason));
    st.down_peers.insert(it->second);
    st.peers.erase(it->second);
    st.peer_by_gate.erase(it);
    return;
  }
  if (msg.source == st.keeper.address()) {
    if (st.stopping)
      return;
    spdlog::error("event=lease_keeper_down reason=\"{}\" action=restart",
                  caf::to_string(msg.reason));
    st.round_in_flight = false;
    st.keeper = st.keeper_factory(self->system(), st.ledger);
    self->monitor(st.keeper);
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
  if (slot.stopping) {
    on_cluster_stopped(self, id);
    return;
  }
  if (slot.epoch == 0)
    return;
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

/// Acquires the lease of `id` and serves the cluster when it gets it. A cluster that
/// another node got answers its creators at once: it exists, served elsewhere.
void acquire(self_pointer self, const std::string& id) {
  auto& st = self->state;
  {
    auto& slot = st.clusters.at(id);
    // A round that read the leases before a create's acquisition committed plans it
    // again.
    if (slot.acquiring || slot.epoch > 0)
      return;
    slot.acquiring = true;
  }
  ++st.acquiring;
  auto sent = self->clock().now();
  auto settle = [self, id] {
    auto& st = self->state;
    --st.acquiring;
    auto& slot = st.clusters.at(id);
    slot.acquiring = false;
    if (slot.epoch == 0) {
      for (auto& promise : slot.creators)
        promise.deliver(slot.record);
      slot.creators.clear();
    }
    deliver_ready(st);
  };
  self->request(st.keeper, membership(self).lease_ttl, acquire_atom::value, id)
      .then(
          [self, id, sent, settle](lease_grant& grant) {
            auto& slot = self->state.clusters.at(id);
            if (grant.epoch > 0 && !self->state.stopping && slot.epoch == 0 &&
                !slot.stopping)
              take_lease(self, id, grant, sent);
            settle();
          },
          [id, settle](caf::error& err) {
            spdlog::warn("event=lease_acquire_failed cluster={} reason=\"{}\"", id,
                         message_of(err));
            settle();
          });
}

void reload_records(self_pointer self);

/// Renewed leases get a new local deadline; leases sent for renewal at an epoch that
/// the round did not renew are lost (another node has them, or a newer epoch does).
void apply_renewals(self_pointer self, const std::vector<held_lease>& sent_leases,
                    const std::vector<std::string>& renewed, steady_time sent) {
  std::unordered_set<std::string> ok{renewed.begin(), renewed.end()};
  for (const auto& lease : sent_leases) {
    auto& slot = self->state.clusters.at(lease.cluster_id);
    if (slot.epoch != lease.epoch)
      continue;
    if (ok.count(lease.cluster_id) > 0)
      slot.valid_until = lease_deadline(self, sent);
    else
      stop_cluster(self, lease.cluster_id, false,
                   "the database gives the lease to "
                   "another epoch");
  }
}

ownership::local_clusters local_view(const node_state& st) {
  ownership::local_clusters local;
  for (const auto& [id, slot] : st.clusters) {
    local.known.insert(id);
    if (slot.stopping)
      local.stopping.insert(id);
    else if (slot.epoch > 0)
      local.held.insert(id);
  }
  return local;
}

/// A down peer's leases are taken over when the database's clock ends them, and the
/// next heartbeat round may come up to a heartbeat after that: a round goes early
/// instead, just after the first of them runs out (the database's `now()` of a round is
/// this node's own heartbeat). A peer that no longer holds a lease and is no longer
/// live is forgotten.
void plan_early_round(self_pointer self) {
  constexpr std::chrono::milliseconds margin{20};
  auto& st = self->state;
  st.early_round_at.reset();
  if (st.down_peers.empty())
    return;
  timestamp_ms database_now = 0;
  std::unordered_set<std::string> present;
  for (const auto& node : st.view.nodes) {
    present.insert(node.id);
    if (node.id == membership(self).node_id)
      database_now = node.heartbeat_at;
  }
  std::optional<timestamp_ms> first_expiry;
  for (const auto& lease : st.view.leases) {
    if (lease.expired || st.down_peers.count(lease.node_id) == 0)
      continue;
    present.insert(lease.node_id);
    if (database_now > 0 && lease.expires_at > database_now &&
        (!first_expiry || lease.expires_at < *first_expiry))
      first_expiry = lease.expires_at;
  }
  std::erase_if(st.down_peers, [&](const auto& id) { return present.count(id) == 0; });
  if (!first_expiry)
    return;
  // From now: the database read its clock before it answered.
  auto at = self->clock().now() + std::chrono::milliseconds{*first_expiry - database_now} +
            margin;
  if (at < st.next_round_at)
    st.early_round_at = at;
}

void on_round(self_pointer self, const std::vector<held_lease>& sent_leases,
              membership_view& view, steady_time sent) {
  auto& st = self->state;
  apply_renewals(self, sent_leases, view.renewed, sent);
  st.view = std::move(view);
  if (st.view.nodes.size() > 1)
    st.seen_other_nodes = true;
  plan_early_round(self);
  auto plan = ownership::plan_round(membership(self).node_id, st.view, local_view(st));
  if (plan.unknown_clusters)
    reload_records(self);
  if (!st.stopping) {
    for (const auto& id : plan.acquire) {
      const auto& handed_off_at = st.clusters.at(id).handed_off_at;
      if (!handed_off_at || *handed_off_at < sent)
        acquire(self, id);
    }
    if (plan.hand_off)
      stop_cluster(self, *plan.hand_off, true,
                   "another live node is its preferred owner");
  }
  st.first_round_done = true;
  deliver_ready(st);
  connect_peers(self);
}

/// Heartbeats, renews the held leases and plans from what the others hold.
void send_round(self_pointer self) {
  auto& st = self->state;
  if (st.round_in_flight || !st.loaded)
    return;
  st.round_in_flight = true;
  std::vector<held_lease> leases;
  for (const auto& [id, slot] : st.clusters)
    if (slot.epoch > 0)
      leases.push_back({id, slot.epoch});
  auto sent = self->clock().now();
  st.round_sent = sent;
  self->request(st.keeper, membership(self).lease_ttl, membership_round_atom::value,
                leases)
      .then(
          [self, leases, sent](membership_view& view) {
            self->state.round_in_flight = false;
            // A round that takes a third of the lease leaves little room for the next.
            auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                self->clock().now() - sent);
            if (took > membership(self).lease_ttl / 3)
              spdlog::warn("event=membership_round_slow took_ms={} lease_ttl_ms={}",
                           took.count(), membership(self).lease_ttl.count());
            on_round(self, leases, view, sent);
          },
          [self](caf::error& err) {
            self->state.round_in_flight = false;
            spdlog::warn("event=membership_round_failed reason=\"{}\"", message_of(err));
          });
}

/// The round every heartbeat.
void run_round(self_pointer self) {
  auto& st = self->state;
  self->delayed_send(self, membership(self).heartbeat, round_atom::value);
  st.next_round_at = self->clock().now() + membership(self).heartbeat;
  if (st.reload_wanted)
    reload_records(self);
  send_round(self);
}

/// Sends the early round once it is due; when the lease checks should look again.
std::chrono::milliseconds run_early_round(self_pointer self, steady_time now,
                                          std::chrono::milliseconds next_check) {
  auto& st = self->state;
  if (!st.early_round_at)
    return next_check;
  if (now >= *st.early_round_at) {
    if (st.round_in_flight)
      return next_check;
    st.early_round_at.reset();
    send_round(self);
    return next_check;
  }
  auto until = std::chrono::ceil<std::chrono::milliseconds>(*st.early_round_at - now);
  return std::min(next_check, until);
}

/// Stops serving the clusters whose lease ran out by this node's clock: a node that
/// cannot reach the database stops by itself before another node may take over.
void check_leases(self_pointer self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (auto& [id, slot] : st.clusters) {
    if (slot.epoch == 0)
      continue;
    // The keeper may have renewed it on its own while this actor's thread was busy.
    if (auto renewed = st.ledger->valid_until(id, slot.epoch);
        !slot.stopping && renewed && slot.valid_until < *renewed)
      slot.valid_until = *renewed;
    if (now < slot.valid_until)
      continue;
    if (slot.stopping) {
      // A hand-off that outlived the lease: whatever it still writes is fenced.
      slot.handing_off = false;
      slot.epoch = 0;
      update_lease_gauge(st);
      tell_writer_epoch(self, id, 0);
      continue;
    }
    // Whether the round was slow to answer (the keeper or the database) or late to go
    // (this actor's thread busy or starved).
    auto ms = [&](steady_time t) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(now - t).count();
    };
    spdlog::warn(
        "event=lease_not_renewed cluster={} round_in_flight={} last_round_sent_ms_ago={} "
        "overdue_ms={}",
        id, st.round_in_flight, st.round_sent == steady_time{} ? -1 : ms(st.round_sent),
        ms(slot.valid_until));
    stop_cluster(self, id, false, "not renewed in time");
  }
  auto ttl = membership(self).lease_ttl;
  auto next = run_early_round(self, now, std::max(std::chrono::milliseconds{20}, ttl / 20));
  self->delayed_send(self, std::max(std::chrono::milliseconds{1}, next),
                     lease_check_atom::value);
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
            add_record(self, record);
            self->state.clusters[record.id].creators.push_back(promise);
            // Served where it is created; a later round hands it to its preferred
            // owner if that is another node.
            acquire(self, record.id);
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

/// The cluster's forwarder, made on first need.
cluster_actor forwarder_of(self_pointer self, const std::string& id) {
  auto& st = self->state;
  auto& slot = st.clusters.at(id);
  if (!slot.forwarder) {
    slot.forwarder =
        spawn_cluster_forwarder(self, caf::actor_cast<node_actor>(self), id,
                                membership(self).mesh_secret, membership(self).lease_ttl);
    st.id_by_forwarder[slot.forwarder.address()] = id;
  }
  return slot.forwarder;
}

/// The node whose unexpired lease the last round saw for `id`; empty if none.
std::string owner_of(const node_state& st, const std::string& id) {
  for (const auto& lease : st.view.leases)
    if (lease.cluster_id == id)
      return lease.expired ? std::string{} : lease.node_id;
  return {};
}

/// Reaches every live peer not reached yet. The middleman connects one peer at a time
/// and blocks while it does, so this never runs on a request's path, and each connect
/// has its own timeout.
void connect_peers(self_pointer self) {
  auto& st = self->state;
  if (!membership(self).mesh || st.stopping)
    return;
  auto middleman = self->system().middleman().actor_handle();
  for (const auto& node : st.view.nodes) {
    if (node.id == membership(self).node_id || node.caf_port <= 0 ||
        node.caf_host.empty())
      continue;
    auto& p = st.peers[node.id];
    if (p.gate || p.connecting)
      continue;
    p.connecting = true;
    auto id = node.id;
    self->request(middleman, membership(self).lease_ttl, caf::connect_atom::value,
                  node.caf_host, static_cast<std::uint16_t>(node.caf_port))
        .then(
            [self, id](caf::node_id&, caf::strong_actor_ptr& remote,
                       std::set<std::string>&) {
              auto& st = self->state;
              auto& p = st.peers[id];
              p.connecting = false;
              auto gate = caf::actor_cast<mesh_gate_actor>(remote);
              if (!gate) {
                spdlog::warn("event=peer_connect_failed node={} reason=\"no gate "
                             "published\"",
                             id);
                return;
              }
              self->monitor(gate);
              st.down_peers.erase(id);
              st.peer_by_gate[gate.address()] = id;
              p.gate = std::move(gate);
              spdlog::info("event=peer_connected node={}", id);
            },
            [self, id](caf::error& err) {
              self->state.peers[id].connecting = false;
              spdlog::warn("event=peer_connect_failed node={} reason=\"{}\"", id,
                           self->system().render(err));
            });
  }
}

/// Why a cluster this node knows is not served here now (503, retryable).
caf::error not_served_here(self_pointer self, const std::string& id) {
  const auto& slot = self->state.clusters.at(id);
  if (slot.epoch > 0 && !slot.stopping)
    return make_error(error_code::unavailable,
                      "cluster " + id + " is starting; retry shortly");
  for (const auto& lease : self->state.view.leases)
    if (lease.cluster_id == id && !lease.expired && !lease.node_id.empty() &&
        lease.node_id != membership(self).node_id)
      return make_error(error_code::unreachable,
                        "cluster " + id + " is served by node " + lease.node_id +
                            ", which this node does not reach; retry");
  return make_error(error_code::unavailable,
                    "cluster " + id + " is moving between nodes; retry shortly");
}

/// What an API secret (as its SHA-256) resolves to here: the cluster's id and the actor
/// serving its requests (its own, or a forwarder), or the error to answer.
using resolution = std::variant<caf::error, std::pair<std::string, cluster_actor>>;

resolution resolve(self_pointer self, const std::string& secret_hash) {
  auto& st = self->state;
  auto it = st.id_by_secret_hash.find(secret_hash);
  if (it == st.id_by_secret_hash.end())
    return make_error(error_code::unauthorized, "unknown API secret");
  auto& slot = st.clusters.at(it->second);
  if (slot.ready)
    return std::pair{it->second, slot.actor};
  if (membership(self).mesh && (slot.epoch == 0 || slot.stopping))
    return std::pair{it->second, forwarder_of(self, it->second)};
  return not_served_here(self, it->second);
}

/// Reads the clusters again (at most one read at a time), then answers the secrets that
/// waited for it.
void reload_records(self_pointer self) {
  auto& st = self->state;
  if (st.reloading)
    return;
  st.reloading = true;
  st.reload_wanted = false;
  self->request(st.reader, caf::infinite, load_clusters_atom::value)
      .then(
          [self](std::vector<cluster_record>& records) {
            auto& st = self->state;
            for (auto& record : records)
              if (st.clusters.count(record.id) == 0)
                add_record(self, std::move(record));
            st.reloading = false;
            st.last_reload = self->clock().now();
            auto waiting = std::move(st.unknown_secrets);
            st.unknown_secrets.clear();
            for (auto& [hash, promise] : waiting) {
              auto found = resolve(self, hash);
              if (auto* err = std::get_if<caf::error>(&found))
                promise.deliver(*err);
              else
                promise.deliver(std::get<1>(found).first, std::get<1>(found).second);
            }
          },
          [self](caf::error& err) {
            auto& st = self->state;
            st.reloading = false;
            st.last_reload = self->clock().now();
            spdlog::warn("event=clusters_reload_failed reason=\"{}\"", message_of(err));
            for (auto& [hash, promise] : st.unknown_secrets)
              promise.deliver(err);
            st.unknown_secrets.clear();
          });
}

/// Answers an authentication. With other nodes about, an unknown secret may belong to
/// a cluster just created elsewhere: it waits for the clusters to be read again. Unknown
/// secrets must stay cheap, so a read less than half a second after the last one waits
/// for the next heartbeat (the clusters are then read at most about once a heartbeat
/// however many come); refusing it instead answered 401 to the first calls of a cluster
/// created just after a read. At most `max_waiting_secrets` wait; beyond, 401 at once.
caf::result<std::string, cluster_actor> authenticate(self_pointer self,
                                                     const std::string& secret_hash) {
  constexpr std::size_t max_waiting_secrets = 10000;
  auto& st = self->state;
  auto found = resolve(self, secret_hash);
  if (auto* pair = std::get_if<1>(&found))
    return {pair->first, pair->second};
  auto& err = std::get<caf::error>(found);
  bool others = st.seen_other_nodes || st.view.nodes.size() > 1;
  if (code_of(err) != error_code::unauthorized || !others ||
      st.unknown_secrets.size() >= max_waiting_secrets)
    return err;
  bool recent = st.last_reload &&
                self->clock().now() - *st.last_reload < std::chrono::milliseconds{500};
  auto promise = self->make_response_promise<std::string, cluster_actor>();
  st.unknown_secrets.emplace_back(secret_hash, promise);
  if (recent && !st.reloading)
    st.reload_wanted = true;
  else
    reload_records(self);
  return promise;
}

node_actor::behavior_type node_behavior(self_pointer self, node_options options,
                                        persistence_factory factory,
                                        lease_keeper_factory keeper) {
  auto& st = self->state;
  st.options = std::move(options);
  st.factory = std::move(factory);
  st.keeper_factory = std::move(keeper);
  if (st.options.parked)
    st.parked = st.options.parked;
  spawn_persistence_actors(self);
  st.keeper = st.keeper_factory(self->system(), st.ledger);
  self->monitor(st.keeper);
  self->send(self, lease_check_atom::value);
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
    exit_children(self, msg.reason);
    self->quit(msg.reason);
  });
  self->request(st.writer, caf::infinite, load_clusters_atom::value)
      .then(
          [self](std::vector<cluster_record>& records) {
            for (auto& record : records)
              add_record(self, std::move(record));
            self->state.loaded = true;
            run_round(self);
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
        return authenticate(self, secret_hash);
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
        if (it->second.ready)
          return it->second.actor;
        if (membership(self).mesh && (it->second.epoch == 0 || it->second.stopping))
          return forwarder_of(self, id);
        return not_served_here(self, id);
      },
      [self](local_cluster_atom, const std::string& id) -> caf::result<cluster_actor> {
        auto it = self->state.clusters.find(id);
        if (it == self->state.clusters.end())
          return make_error(error_code::not_found, "cluster " + id + " not found");
        if (!it->second.ready)
          return not_served_here(self, id);
        return it->second.actor;
      },
      [self](route_atom,
             const std::string& id) -> caf::result<cluster_actor, mesh_gate_actor> {
        auto& st = self->state;
        auto it = st.clusters.find(id);
        if (it == st.clusters.end())
          return make_error(error_code::not_found, "cluster " + id + " not found");
        if (it->second.ready)
          return {it->second.actor, mesh_gate_actor{}};
        auto owner = owner_of(st, id);
        if (auto p = st.peers.find(owner); !owner.empty() &&
                                           owner != membership(self).node_id &&
                                           p != st.peers.end() && p->second.gate)
          return {cluster_actor{}, p->second.gate};
        return not_served_here(self, id);
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
        if (it == self->state.clusters.end() || it->second.stopping ||
            it->second.epoch == 0)
          return;
        it->second.ready = true;
        for (auto& promise : it->second.creators)
          promise.deliver(it->second.record);
        it->second.creators.clear();
        deliver_ready(self->state);
      },
      [self](restart_atom, const std::string& id) {
        auto it = self->state.clusters.find(id);
        if (it == self->state.clusters.end() || it->second.actor)
          return;
        if (it->second.stopping) {
          on_cluster_stopped(self, id);
          return;
        }
        if (it->second.epoch > 0 && !self->state.stopping) {
          it->second.restarts.push_back(self->clock().now());
          start_cluster(self, id);
        }
      },
      [self](nodes_atom) { return self->state.view; },
      [self](round_atom) { run_round(self); },
      [self](lease_check_atom) { check_leases(self); },
      [self](fenced_atom, const std::string& id, std::int64_t epoch) {
        auto it = self->state.clusters.find(id);
        if (it != self->state.clusters.end() && epoch > 0 && it->second.epoch == epoch)
          stop_cluster(self, id, false, "the database refused its writes (fenced)");
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
                      persistence_factory factory, lease_keeper_factory keeper) {
  return system.spawn(node_behavior, std::move(options), std::move(factory),
                      std::move(keeper));
}

} // namespace diffplane
