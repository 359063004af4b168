#include "actors/mesh.hpp"

#include "actors/secrets.hpp"
#include "persistence/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <memory>
#include <unordered_map>

namespace diffplane {

namespace {

/// What the gate knows of a forwarder: it takes the answers of its batches.
using answers_receiver = caf::typed_actor<caf::reacts_to<forward_answers>>;

struct gate_state {
  // Not an aggregate: CAF would construct the state from the actor's self pointer.
  gate_state() = default;
  node_actor node;
  std::string secret;
  /// Answers to batched requests not sent yet, by the forwarder they go to.
  struct outbox {
    answers_receiver to;
    forward_answers answers;
  };
  std::unordered_map<caf::actor_addr, outbox> outboxes;
  /// Whether a forward_flush_atom is on its way to the gate.
  bool flush_pending = false;
  static inline const char* name = "diffplane.mesh_gate";
};

using gate_pointer = mesh_gate_actor::stateful_pointer<gate_state>;

bool refused(const std::string& secret, const std::string& expected) {
  if (secrets::constant_time_equals(secret, expected))
    return false;
  spdlog::warn("event=mesh_request_refused reason=\"wrong mesh secret\"");
  return true;
}

/// Asks the local actor of `cluster_id` and answers with what it answers. Not a
/// delegation: the answer must come from the gate, or the cluster actor's handle would
/// travel to the peer and become addressable from the network.
template <class Reply, class... Ts>
caf::result<Reply> relay(gate_pointer self, const std::string& secret,
                         const std::string& cluster_id, Ts... xs) {
  auto& st = self->state;
  if (refused(secret, st.secret))
    return make_error(error_code::unauthorized, "wrong mesh secret");
  auto promise = self->make_response_promise<Reply>();
  self->request(st.node, std::chrono::seconds{5}, local_cluster_atom::value, cluster_id)
      .then(
          [self, promise, xs...](cluster_actor& cluster) mutable {
            self->request(cluster, caf::infinite, xs...)
                .then([promise](
                          Reply& reply) mutable { promise.deliver(std::move(reply)); },
                      [promise](caf::error& err) mutable { promise.deliver(err); });
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

/// Passes a one-way notice to the local actor of `cluster_id`, if it is served here.
template <class... Ts>
void relay_notice(gate_pointer self, const std::string& secret,
                  const std::string& cluster_id, Ts... xs) {
  auto& st = self->state;
  if (refused(secret, st.secret))
    return;
  self->request(st.node, std::chrono::seconds{5}, local_cluster_atom::value, cluster_id)
      .then([self, xs...](cluster_actor& cluster) { self->send(cluster, xs...); },
            [](caf::error&) {
              // Not served here any more: the notice is lost, and the silent-machine
              // sweep of the cluster's owner is the backstop.
            });
}

/// The answers gathered for the forwarder `to`; the first one of a turn schedules
/// their sending at the end of the turn.
forward_answers& answers_for(gate_pointer self, const caf::actor& to) {
  auto& st = self->state;
  if (!st.flush_pending) {
    st.flush_pending = true;
    self->send(self, forward_flush_atom::value);
  }
  auto& box = st.outboxes[to.address()];
  if (!box.to)
    box.to = caf::actor_cast<answers_receiver>(to);
  return box.answers;
}

void flush(gate_pointer self) {
  auto& st = self->state;
  st.flush_pending = false;
  for (auto& [addr, box] : st.outboxes)
    if (!box.answers.empty())
      self->send(box.to, std::move(box.answers));
  st.outboxes.clear();
}

/// Asks `cluster` each request of `items`; each answer joins the answers for `to`.
template <class Reply, class T>
void relay_each(gate_pointer self, const cluster_actor& cluster, const caf::actor& to,
                std::vector<batched<T>>& items,
                std::vector<batched<Reply>> forward_answers::*slot) {
  for (auto& item : items) {
    self->request(cluster, caf::infinite, std::move(item.value))
        .then(
            [self, to, id = item.id, slot](Reply& reply) {
              (answers_for(self, to).*slot).push_back({id, std::move(reply)});
            },
            [self, to, id = item.id](caf::error& err) {
              answers_for(self, to).failed.push_back({id, std::move(err)});
            });
  }
}

/// Answers every request of `batch` with `err`.
void fail_all(gate_pointer self, const caf::actor& to, const forward_batch& batch,
              const caf::error& err) {
  auto& out = answers_for(self, to).failed;
  auto add = [&](const auto& items) {
    for (const auto& item : items)
      out.push_back({item.id, err});
  };
  add(batch.creates);
  add(batch.polls);
  add(batch.results);
  add(batch.status_waits);
}

/// Serves a batch: one look-up of the cluster for all of its requests, whose answers
/// go back to the sender in as few messages as the cluster's turns allow.
void relay_batch(gate_pointer self, forward_batch& batch) {
  auto to = caf::actor_cast<caf::actor>(self->current_sender());
  if (!to)
    return; // nobody to answer
  auto& st = self->state;
  if (refused(batch.secret, st.secret)) {
    fail_all(self, to, batch, make_error(error_code::unauthorized, "wrong mesh secret"));
    return;
  }
  auto held = std::make_shared<forward_batch>(std::move(batch));
  // No timeout: the node is in this process and answers at once (or its end fails the
  // request at once), and each timeout costs two events in CAF's clock thread.
  self->request(st.node, caf::infinite, local_cluster_atom::value, held->cluster_id)
      .then(
          [self, to, held](cluster_actor& cluster) {
            relay_each(self, cluster, to, held->creates, &forward_answers::created);
            relay_each(self, cluster, to, held->polls, &forward_answers::dispatched);
            relay_each(self, cluster, to, held->results, &forward_answers::posted);
            relay_each(self, cluster, to, held->status_waits, &forward_answers::statuses);
          },
          [self, to, held](caf::error& err) { fail_all(self, to, *held, err); });
}

mesh_gate_actor::behavior_type gate_behavior(gate_pointer self, node_actor node,
                                             std::string secret) {
  self->state.node = std::move(node);
  self->state.secret = std::move(secret);
  using s = const std::string&;
  return {
      [self](forward_batch& batch) { relay_batch(self, batch); },
      [self](forward_flush_atom) { flush(self); },
      [self](forward_atom, s secret, s cluster, create_job_request& r) {
        return relay<std::string>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, jobs_request& r) {
        return relay<std::vector<dispatched_job>>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, job_result_post& r) {
        return relay<bool>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, status_request& r) {
        return relay<std::vector<job_status_row>>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, client_events_post& r) {
        return relay<done_atom>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, details_atom a) {
        return relay<cluster_details>(self, secret, cluster, a);
      },
      [self](forward_atom, s secret, s cluster, service_details_request& r) {
        return relay<service_details>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, settings_atom a) {
        return relay<cluster_settings>(self, secret, cluster, a);
      },
      [self](forward_atom, s secret, s cluster, cluster_settings& r) {
        return relay<done_atom>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, activity_query& r) {
        return relay<std::vector<event_record>>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, metrics_query& r) {
        return relay<function_metrics>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, fetch_job_atom a, s id) {
        return relay<job_detail>(self, secret, cluster, a, id);
      },
      [self](forward_atom, s secret, s cluster, resource_inform_request& r) {
        return relay<std::vector<inform_result>>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, resource_query& r) {
        return relay<resource_page>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, resource_events_request& r) {
        return relay<resource_events_page>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, resource_counts_query& r) {
        return relay<std::vector<resource_count>>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, resource_kind_request& r) {
        return relay<resource_kind_record>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, resource_namespace_request& r) {
        return relay<resource_namespace_record>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, resource_command& r) {
        return relay<resource_command_result>(self, secret, cluster, std::move(r));
      },
      [self](forward_atom, s secret, s cluster, machine_inactive_atom a, s machine) {
        relay_notice(self, secret, cluster, a, machine);
      },
      [self](forward_atom, s secret, s cluster, machine_alive_atom a, s machine) {
        relay_notice(self, secret, cluster, a, machine);
      },
  };
}

} // namespace

mesh_gate_actor spawn_mesh_gate(caf::actor_system& system, node_actor node,
                                std::string mesh_secret) {
  return system.spawn(gate_behavior, std::move(node), std::move(mesh_secret));
}

} // namespace diffplane
