#include "actors/mesh.hpp"

#include "actors/secrets.hpp"
#include "persistence/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace diffplane {

namespace {

struct gate_state {
  // Not an aggregate: CAF would construct the state from the actor's self pointer.
  gate_state() = default;
  node_actor node;
  std::string secret;
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

mesh_gate_actor::behavior_type gate_behavior(gate_pointer self, node_actor node,
                                             std::string secret) {
  self->state.node = std::move(node);
  self->state.secret = std::move(secret);
  using s = const std::string&;
  return {
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
