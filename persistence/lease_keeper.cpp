#include "persistence/lease_keeper.hpp"

#include "persistence/errors.hpp"
#include "persistence/sql_leases.hpp"

#include <caf/all.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <csignal>
#include <memory>
#include <utility>

namespace diffplane {

namespace {

/// The keeper renews by itself only while the node's actor still sends rounds now and
/// then: a node actor gone or hung for this many TTLs leaves its leases to expire.
constexpr int node_silence_ttls = 10;

struct keeper_state {
  lease_keeper_options options;
  /// The node's ledger: it goes with the node actor's state, and its leases are then
  /// renewed no more.
  std::weak_ptr<lease_ledger> ledger;
  std::unique_ptr<pqxx::connection> connection;
  /// When the last renewal (a round's or the keeper's own) was sent.
  caf::actor_clock::time_point last_renewal{};
  /// When the node's last round came (or the keeper started).
  caf::actor_clock::time_point last_round{};
  static inline const char* name = "diffplane.lease_keeper";
};

using keeper_pointer = lease_keeper_actor::stateful_pointer<keeper_state>;

struct nothing_after_commit {
  template <class T>
  void operator()(const T&) const {}
};

/// Runs `fn` in a transaction on the keeper's connection, then `after` with its result
/// once committed; a failure is `unavailable`, and a broken connection is opened again
/// by the next call.
template <class Fn, class After = nothing_after_commit>
auto in_transaction(keeper_pointer self, Fn fn, After after = {})
    -> caf::result<decltype(fn(std::declval<pqxx::work&>()))> {
  auto& st = self->state;
  try {
    if (!st.connection || !st.connection->is_open())
      st.connection = std::make_unique<pqxx::connection>(st.options.database_url);
    pqxx::work txn{*st.connection, "membership"};
    auto result = fn(txn);
    txn.commit();
    after(result);
    return result;
  } catch (const std::exception& e) {
    st.connection.reset();
    std::string reason = e.what();
    if (auto end = reason.find('\n'); end != std::string::npos)
      reason.resize(end);
    spdlog::warn("event=membership_failed node={} reason=\"{}\"", st.options.node_id,
                 reason);
    return make_error(error_code::unavailable, "the database is unavailable");
  }
}

/// Gives the renewed leases of the ledger their new deadline, counted from `sent`: the
/// database counts the TTL from the statement, later. `by` says whose renewal it was.
void record_renewals(keeper_pointer self, const std::vector<held_lease>& held,
                     const std::vector<std::string>& renewed,
                     caf::actor_clock::time_point sent, const char* by) {
  auto& o = self->state.options;
  if (auto ledger = self->state.ledger.lock())
    ledger->renewed(held, renewed, lease_valid_until(sent, o.lease_ttl));
  // Slow here is the database (or this thread) slow, not the node's actor thread: the
  // node's membership_round_slow counts both.
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      self->clock().now() - sent);
  if (took > o.lease_ttl / 3)
    spdlog::warn("event=lease_renewal_slow by={} took_ms={} lease_ttl_ms={}", by,
                 took.count(), o.lease_ttl.count());
}

/// Renews the ledger's leases when no renewal went out lately, whether or not the
/// node's rounds come (lease_renewal_due).
void renew_held(keeper_pointer self) {
  auto& st = self->state;
  auto ledger = st.ledger.lock();
  // The node actor is gone: nothing to renew any more.
  if (!ledger)
    return;
  self->delayed_send(self, lease_renewal_tick(st.options.lease_ttl),
                     renew_held_atom::value);
  auto sent = self->clock().now();
  auto ttl = st.options.lease_ttl;
  if (sent - st.last_renewal < lease_renewal_due(ttl) ||
      sent - st.last_round > node_silence_ttls * ttl)
    return;
  auto held = ledger->held();
  if (held.empty())
    return;
  st.last_renewal = sent;
  in_transaction(
      self,
      [&](pqxx::work& txn) {
        const auto& o = self->state.options;
        return persistence::sql::renew_leases(txn, o.node_id, held, o.lease_ttl);
      },
      [&](const std::vector<std::string>& renewed) {
        // The node's rounds did not renew for an interval: its actor thread is busy.
        spdlog::info("event=leases_renewed_by_keeper count={} renewed={}", held.size(),
                     renewed.size());
        record_renewals(self, held, renewed, sent, "keeper");
      });
}

lease_keeper_actor::behavior_type keeper_behavior(keeper_pointer self,
                                                  lease_keeper_options options) {
  auto& st = self->state;
  st.options = std::move(options);
  st.ledger = std::exchange(st.options.ledger, nullptr);
  st.last_round = self->clock().now();
  if (!st.ledger.expired())
    self->send(self, renew_held_atom::value);
  return {
      [self](membership_round_atom, const std::vector<held_lease>& held) {
        auto sent = self->clock().now();
        self->state.last_round = sent;
        if (!held.empty())
          self->state.last_renewal = sent;
        return in_transaction(
            self,
            [&](pqxx::work& txn) {
              const auto& o = self->state.options;
              membership_view view;
              persistence::sql::heartbeat(txn, o.node_id);
              view.renewed =
                  persistence::sql::renew_leases(txn, o.node_id, held, o.lease_ttl);
              view.nodes = persistence::sql::live_nodes(txn, o.lease_ttl);
              view.leases = persistence::sql::leases(txn);
              return view;
            },
            [&](const membership_view& view) {
              if (!held.empty())
                record_renewals(self, held, view.renewed, sent, "round");
            });
      },
      [self](renew_held_atom) { renew_held(self); },
      [self](acquire_atom, const std::string& cluster_id) {
        return in_transaction(self, [&](pqxx::work& txn) {
          const auto& o = self->state.options;
          return persistence::sql::acquire_lease(txn, o.node_id, cluster_id, o.lease_ttl);
        });
      },
      [self](release_lease_atom, const held_lease& lease) {
        return in_transaction(self, [&](pqxx::work& txn) {
          persistence::sql::release_lease(txn, self->state.options.node_id, lease);
          return done_atom::value;
        });
      },
      [self](leave_atom) {
        return in_transaction(self, [&](pqxx::work& txn) {
          persistence::sql::leave(txn, self->state.options.node_id);
          return done_atom::value;
        });
      },
  };
}

/// Whether process `pid` of this host is gone. Our own pid counts as gone: a row of this
/// host with it is an earlier incarnation (a container's server is often pid 1).
bool process_gone(std::int32_t pid) {
  if (pid <= 0 || pid == static_cast<std::int32_t>(getpid()))
    return true;
  return kill(pid, 0) != 0 && errno == ESRCH;
}

} // namespace

lease_keeper_actor spawn_lease_keeper(caf::actor_system& system,
                                      lease_keeper_options options) {
  return system.spawn<caf::detached>(keeper_behavior, std::move(options));
}

std::string register_node(const std::string& database_url, const node_identity& node,
                          std::chrono::milliseconds lease_ttl,
                          const std::string& mesh_secret_candidate) {
  pqxx::connection connection{database_url};
  pqxx::work txn{connection, "register_node"};
  std::vector<std::string> gone;
  for (const auto& other :
       persistence::sql::live_nodes_on_host(txn, node.hostname, lease_ttl))
    if (process_gone(other.pid))
      gone.push_back(other.id);
  if (!gone.empty())
    spdlog::info("event=nodes_retired count={} reason=\"their process on this host is "
                 "gone\"",
                 gone.size());
  persistence::sql::retire_nodes(txn, gone);
  if (!persistence::sql::insert_node(txn, node, lease_ttl))
    throw std::runtime_error("node id " + node.id +
                             " is taken by a live node; give each node its own "
                             "--node-id");
  if (auto twin = persistence::sql::live_node_with_caf_node(txn, node.id, node.caf_node,
                                                            lease_ttl);
      !twin.empty())
    throw std::runtime_error(
        "live node " + twin + " has the same CAF node id (" + node.caf_node +
        "): CAF derives it from host data and the process id, which two containers "
        "whose server is pid 1 can share; give the containers distinct host names");
  auto secret = persistence::sql::mesh_secret(txn, mesh_secret_candidate);
  txn.commit();
  return secret;
}

void record_http_address(const std::string& database_url, const std::string& node_id,
                         const std::string& http_address) {
  pqxx::connection connection{database_url};
  pqxx::work txn{connection, "record_http_address"};
  persistence::sql::set_http_address(txn, node_id, http_address);
  txn.commit();
}

} // namespace diffplane
