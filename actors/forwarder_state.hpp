#pragma once

#include "actors/mesh.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>

// The state of a cluster forwarder (cluster_forwarder.cpp), shared with the batching of
// its tries (forward_batching.cpp). Private to those two files.
namespace diffplane::forwarding {

using steady_time = caf::actor_clock::time_point;

/// The forwarder's interface: a cluster's, and the answers of the batches it sends.
using forwarder_actor = cluster_actor::extend<caf::reacts_to<forward_answers>,
                                              caf::reacts_to<forward_flush_atom>,
                                              caf::reacts_to<forward_tick_atom>>;

/// The promise of a batched request, by its kind.
using batched_promise =
    std::variant<caf::typed_response_promise<std::string>,
                 caf::typed_response_promise<std::vector<dispatched_job>>,
                 caf::typed_response_promise<bool>,
                 caf::typed_response_promise<std::vector<job_status_row>>>;

/// What the forwarder keeps for its batches.
struct batching_state {
  /// Batches being gathered in this turn of the mailbox, by the gate they go to.
  struct outgoing {
    mesh_gate_actor gate;
    forward_batch batch;
  };
  std::unordered_map<caf::actor_addr, outgoing> outgoing_batches;
  /// Gates that answered a batch, and gates that let one go unanswered without ever
  /// having answered one. Those get their requests one at a time: a node of an older
  /// version cannot read a batch and drops it (a rolling upgrade), and a silent one
  /// loses nothing by it.
  std::unordered_set<caf::actor_addr> batch_readers;
  std::unordered_set<caf::actor_addr> unbatched;
  /// Whether a forward_flush_atom, or a forward_tick_atom, is on its way to us.
  bool flush_pending = false;
  bool ticking = false;
};

struct forwarder_state {
  // Not an aggregate: CAF would construct the state from the actor's self pointer.
  forwarder_state() = default;
  node_actor node;
  std::string cluster_id;
  std::string secret;
  /// Requests in flight to a peer's gate, by attempt: the gate, and what to do when it
  /// fails (the gate's node may die without any answer ever coming). A batched one
  /// also has its promise, when it was sent and when it is overdue.
  struct attempt {
    caf::actor_addr gate;
    std::function<void(const caf::error&)> fail;
    std::optional<batched_promise> promise;
    steady_time started{};
    steady_time due{};
  };
  std::unordered_map<std::uint64_t, attempt> attempts;
  batching_state batching;
  /// Tries waiting for their retry pause, by id.
  std::unordered_map<std::uint64_t, std::function<void()>> waiting;
  std::uint64_t next_id = 0;
  std::unordered_set<caf::actor_addr> monitored;
  /// Where the cluster was served at the last try (at most one is valid); forgotten
  /// when a try there fails.
  cluster_actor local_route;
  mesh_gate_actor gate_route;
  /// Since when the owner has not answered (tries timed out, its connection died, or the
  /// node has no link to it), with no answer between; none: the last try was answered.
  /// An owner alive to the database but not to this node (a partition between nodes)
  /// keeps its lease, so trying again for the whole budget only makes callers wait for
  /// the same error.
  std::optional<steady_time> silent_since;
  /// How long the owner may stay silent before a failed try is the request's answer:
  /// long enough for a dead or frozen owner's lease to expire and another node to take
  /// the cluster over (two lease TTLs), and one try more.
  caf::timespan give_up_after{};
  std::mt19937_64 random{std::random_device{}()};
  static inline const char* name = "diffplane.cluster_forwarder";
};

using self_pointer = forwarder_actor::stateful_pointer<forwarder_state>;

} // namespace diffplane::forwarding
