#include "actors/mesh.hpp"

#include "actors/forward_batching.hpp"
#include "actors/forwarder_state.hpp"
#include "actors/job_ids.hpp"

#include "metrics/catalog.hpp"
#include "persistence/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <functional>
#include <optional>

namespace diffplane {

namespace {

using namespace forwarding;

/// How long a request waits before it is tried again after the place it went to was
/// gone or did not serve the cluster.
constexpr auto retry_pause = std::chrono::milliseconds{100};
/// Requests that carry no long-poll may take this long, all tries included; the
/// gateway's own limit is 30 s, so its caller hears this one's error first.
constexpr auto request_budget = std::chrono::seconds{25};
/// A long-poll may take its ttl plus this, all tries included (the gateway allows 10).
constexpr auto long_poll_margin = std::chrono::seconds{8};
/// How long the node may take to say where the cluster is.
constexpr auto route_timeout = std::chrono::seconds{5};
/// How long one try at a peer may take beyond the request's own wait (a long-poll's
/// ttl). A peer that froze, or whose connection died without a word, never answers:
/// its try ends here and the next one goes where the cluster is served by then.
constexpr auto peer_try_limit = std::chrono::seconds{2};

bool retryable(const caf::error& err) {
  // Every forwarded request may be tried again: a create carries its job id. A try
  // that timed out before the request's deadline ran out met a silent peer.
  if (err == caf::sec::request_timeout)
    return true;
  auto code = code_of(err);
  return code == error_code::unavailable || code == error_code::moved ||
         code == error_code::unreachable;
}

/// Whether `err` says that the owner did not answer: a try timed out, its connection
/// died, or the node knows the owner but has no link to it.
bool owner_silent(const caf::error& err) {
  return err == caf::sec::request_timeout || err == caf::sec::request_receiver_down ||
         code_of(err) == error_code::unreachable;
}

/// Sends a request that does not travel in batches (the rare ones: details, settings,
/// resources) to a peer's gate as a request of its own, timed out by CAF.
template <class Reply, class Fail, class... Ts>
void send_alone(self_pointer self, caf::typed_response_promise<Reply> promise,
                const mesh_gate_actor& gate, std::uint64_t id, steady_time started,
                caf::timespan limit, Fail fail, Ts... xs) {
  auto& st = self->state;
  st.attempts.emplace(
      id, forwarder_state::attempt{gate.address(), fail, std::nullopt, started, {}});
  self->request(gate, limit, forward_atom::value, st.secret, st.cluster_id, xs...)
      .then(
          [self, id, promise, started](Reply& reply) mutable {
            if (self->state.attempts.erase(id) == 0)
              return;
            self->state.silent_since.reset();
            auto& stats = metrics::forwarding();
            stats.forwarded.add();
            stats.seconds.observe(
                std::chrono::duration<double>(self->clock().now() - started).count());
            promise.deliver(std::move(reply));
          },
          [self, id](caf::error& err) {
            auto it = self->state.attempts.find(id);
            if (it == self->state.attempts.end())
              return;
            auto failed = std::move(it->second.fail);
            self->state.attempts.erase(it);
            failed(err);
          });
}

/// Sends `xs...` to the cluster's actor here, or to the gate of the peer serving it.
template <class Reply, class Fail, class... Ts>
void send_to(self_pointer self, caf::typed_response_promise<Reply> promise,
             steady_time deadline, caf::timespan try_limit, Fail fail, Ts... xs) {
  auto& st = self->state;
  auto remaining = std::max(caf::timespan{std::chrono::milliseconds{1}},
                            deadline - self->clock().now());
  if (st.local_route) {
    self->request(st.local_route, remaining, xs...)
        .then(
            [self, promise](Reply& reply) mutable {
              self->state.silent_since.reset();
              promise.deliver(std::move(reply));
            },
            [fail](caf::error& err) mutable { fail(err); });
    return;
  }
  auto gate = st.gate_route;
  if (st.monitored.insert(gate.address()).second)
    self->monitor(gate);
  auto id = ++st.next_id;
  auto started = self->clock().now();
  if constexpr (batchable<Ts...>) {
    if (st.batching.unbatched.count(gate.address()) == 0) {
      st.attempts.emplace(id, forwarder_state::attempt{
                                  gate.address(), fail, batched_promise{promise}, started,
                                  started + std::min(remaining, try_limit)});
      add_to_batch(self, gate, id, std::move(xs)...);
      return;
    }
  }
  send_alone<Reply>(self, promise, gate, id, started, std::min(remaining, try_limit), fail,
                    std::move(xs)...);
}

/// Sends one try of `xs...` to wherever the cluster is served now; a failure that a
/// later try may not meet is tried again after a pause while the budget lasts.
template <class Reply, class... Ts>
void try_once(self_pointer self, caf::typed_response_promise<Reply> promise,
              steady_time deadline, caf::timespan try_limit, Ts... xs) {
  auto fail = [self, promise, deadline, try_limit, xs...](const caf::error& err) mutable {
    auto& st = self->state;
    st.local_route = nullptr;
    st.gate_route = nullptr;
    auto now = self->clock().now();
    if (owner_silent(err)) {
      if (!st.silent_since)
        st.silent_since = now;
      if (now - *st.silent_since >= st.give_up_after) {
        promise.deliver(make_error(error_code::unavailable,
                                   "cluster " + st.cluster_id +
                                       " is served by a node that does not answer this "
                                       "one; retry"));
        return;
      }
    }
    if (!retryable(err) || now + retry_pause >= deadline) {
      promise.deliver(err);
      return;
    }
    metrics::forwarding().retries.add();
    auto id = ++self->state.next_id;
    self->state.waiting.emplace(
        id, [self, promise, deadline, try_limit, xs...]() mutable {
          try_once<Reply>(self, promise, deadline, try_limit, xs...);
        });
    // The forwarder's only timer: it reuses the cluster interface's timer message.
    self->delayed_send(self, retry_pause, waiter_expired_atom::value, id);
  };
  auto& st = self->state;
  if (st.local_route || st.gate_route) {
    send_to<Reply>(self, promise, deadline, try_limit, fail, xs...);
    return;
  }
  self->request(st.node, route_timeout, route_atom::value, st.cluster_id)
      .then(
          [self, promise, deadline, try_limit, fail,
           xs...](cluster_actor& local, mesh_gate_actor& gate) mutable {
            self->state.local_route = std::move(local);
            self->state.gate_route = std::move(gate);
            send_to<Reply>(self, promise, deadline, try_limit, fail, xs...);
          },
          [fail](caf::error& err) mutable { fail(err); });
}

/// Passes a one-way notice (a native worker's connection ended, or is alive) to where
/// the cluster is served. Tried once: a lost notice is made up for by the owner's
/// silent-machine sweep, and a heartbeat notice comes again in a few seconds.
template <class... Ts> void notify(self_pointer self, Ts... xs) {
  auto send = [self, xs...] {
    auto& st = self->state;
    if (st.local_route)
      self->send(st.local_route, xs...);
    else if (st.gate_route)
      self->send(st.gate_route, forward_atom::value, st.secret, st.cluster_id, xs...);
  };
  if (self->state.local_route || self->state.gate_route) {
    send();
    return;
  }
  self->request(self->state.node, route_timeout, route_atom::value,
                self->state.cluster_id)
      .then(
          [self, send](cluster_actor& local, mesh_gate_actor& gate) {
            self->state.local_route = std::move(local);
            self->state.gate_route = std::move(gate);
            send();
          },
          [](caf::error&) {});
}

template <class Reply, class... Ts>
caf::result<Reply> forward(self_pointer self, caf::timespan budget,
                           caf::timespan try_limit, Ts... xs) {
  // Peers learn this actor's handle from the requests it sends them: only requests of
  // this process are served, or the CAF port would be a way around the API secrets.
  if (self->current_sender() && self->current_sender()->node() != self->node()) {
    spdlog::warn("event=mesh_request_refused reason=\"a forwarder serves only its node\" "
                 "cluster={}",
                 self->state.cluster_id);
    return make_error(error_code::unauthorized, "requests from other nodes are refused");
  }
  auto promise = self->make_response_promise<Reply>();
  try_once<Reply>(self, promise, self->clock().now() + budget, try_limit,
                  std::move(xs)...);
  return promise;
}

caf::error not_a_cluster_actor() {
  return make_error(error_code::unavailable, "a forwarder serves no resources actor");
}

caf::timespan poll_budget(std::int32_t ttl_ms) {
  return std::chrono::milliseconds{ttl_ms} + long_poll_margin;
}

caf::timespan poll_try_limit(std::int32_t ttl_ms) {
  return std::chrono::milliseconds{ttl_ms} + peer_try_limit;
}

forwarder_actor::behavior_type forwarder_behavior(self_pointer self, node_actor node,
                                                  std::string cluster_id,
                                                  std::string secret,
                                                  caf::timespan lease_ttl) {
  auto& st = self->state;
  st.give_up_after = 2 * lease_ttl + peer_try_limit;
  st.node = std::move(node);
  st.cluster_id = std::move(cluster_id);
  st.secret = std::move(secret);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    st.monitored.erase(msg.source);
    forget_gate(self, msg.source);
    if (st.gate_route && st.gate_route.address() == msg.source)
      st.gate_route = nullptr;
    std::vector<std::function<void(const caf::error&)>> failed;
    for (auto it = st.attempts.begin(); it != st.attempts.end();) {
      if (it->second.gate == msg.source) {
        failed.push_back(std::move(it->second.fail));
        it = st.attempts.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& fail : failed)
      fail(caf::sec::request_receiver_down);
  });
  caf::timespan budget = request_budget;
  return {
      [](job_status_changed&) {},
      [](std::vector<job_status_changed>&) {},
      [](job_finished&) {},
      [](posted_result_atom, job_status_row&) {},
      [self, budget](create_job_request& r) {
        if (r.execution_id.empty()) {
          // Chosen once, before the first try: a try that landed unanswered makes the
          // next one find its job instead of creating another.
          r.execution_id = new_job_id(self->state.random);
        }
        return forward<std::string>(self, budget, peer_try_limit, std::move(r));
      },
      [self](jobs_request& r) {
        auto poll = poll_budget(r.ttl_ms);
        return forward<std::vector<dispatched_job>>(self, poll, poll_try_limit(r.ttl_ms),
                                                    std::move(r));
      },
      [self, budget](job_result_post& r) {
        return forward<bool>(self, budget, peer_try_limit, std::move(r));
      },
      [self](status_request& r) {
        auto poll = poll_budget(r.ttl_ms);
        return forward<std::vector<job_status_row>>(self, poll, poll_try_limit(r.ttl_ms),
                                                    std::move(r));
      },
      [self](posted_result_atom, status_request& r) {
        // The mesh carries plain status waits only, which every node version reads: a
        // wait forwarded to the owner takes the committed result, a commit later.
        auto poll = poll_budget(r.ttl_ms);
        return forward<std::vector<job_status_row>>(self, poll, poll_try_limit(r.ttl_ms),
                                                    std::move(r));
      },
      [self, budget](client_events_post& r) {
        return forward<done_atom>(self, budget, peer_try_limit, std::move(r));
      },
      [self, budget](details_atom a) {
        return forward<cluster_details>(self, budget, peer_try_limit, a);
      },
      [self, budget](service_details_request& r) {
        return forward<service_details>(self, budget, peer_try_limit, std::move(r));
      },
      [self, budget](settings_atom a) {
        return forward<cluster_settings>(self, budget, peer_try_limit, a);
      },
      [self, budget](cluster_settings& r) {
        return forward<done_atom>(self, budget, peer_try_limit, std::move(r));
      },
      [self, budget](activity_query& r) {
        return forward<std::vector<event_record>>(self, budget, peer_try_limit,
                                                  std::move(r));
      },
      [self, budget](metrics_query& r) {
        return forward<function_metrics>(self, budget, peer_try_limit, std::move(r));
      },
      [self, budget](fetch_job_atom a, const std::string& id) {
        return forward<job_detail>(self, budget, peer_try_limit, a, id);
      },
      [self, budget](resource_inform_request& r) {
        // Informing twice is safe: the second finds the first's work queued or done.
        return forward<std::vector<inform_result>>(self, budget, peer_try_limit,
                                                   std::move(r));
      },
      [self, budget](resource_query& r) {
        return forward<resource_page>(self, budget, peer_try_limit, std::move(r));
      },
      [self](resource_events_request& r) {
        auto poll = poll_budget(r.ttl_ms);
        return forward<resource_events_page>(self, poll, poll_try_limit(r.ttl_ms),
                                             std::move(r));
      },
      [self, budget](resource_counts_query& r) {
        return forward<std::vector<resource_count>>(self, budget, peer_try_limit,
                                                    std::move(r));
      },
      [self, budget](resource_kind_request& r) {
        return forward<resource_kind_record>(self, budget, peer_try_limit, std::move(r));
      },
      [self, budget](resource_namespace_request& r) {
        return forward<resource_namespace_record>(self, budget, peer_try_limit,
                                                  std::move(r));
      },
      [self, budget](resource_command& r) {
        // Twice is safe: a second invalidate finds the resource expired (409), a second
        // delete finds none (404).
        return forward<resource_command_result>(self, budget, peer_try_limit,
                                                std::move(r));
      },
      // Only a cluster's own resources actor sends these, to the cluster actor.
      [](resource_write&) -> caf::result<done_atom> { return not_a_cluster_actor(); },
      [](replace_args_atom, const std::vector<std::string>&,
         const std::vector<std::string>&) -> caf::result<std::vector<std::string>> {
        return not_a_cluster_actor();
      },
      [self](machine_inactive_atom a, std::string& machine) {
        if (self->current_sender() == nullptr ||
            self->current_sender()->node() == self->node())
          notify(self, a, std::move(machine));
      },
      [self](machine_alive_atom a, std::string& machine) {
        if (self->current_sender() == nullptr ||
            self->current_sender()->node() == self->node())
          notify(self, a, std::move(machine));
      },
      [](sweep_atom, std::uint64_t) {},
      [self](waiter_expired_atom, std::uint64_t id) {
        auto node = self->state.waiting.extract(id);
        if (!node.empty())
          node.mapped()();
      },
      [self](forward_answers& answers) { take_answers(self, answers); },
      [self](forward_flush_atom) {
        if (self->current_sender() == self->ctrl())
          flush(self);
      },
      [self](forward_tick_atom) {
        if (self->current_sender() == self->ctrl())
          expire_overdue(self);
      },
      [](release_atom) {},
      [](quiesce_atom) {},
      [self](stop_atom) { self->quit(); },
  };
}

} // namespace

cluster_actor spawn_cluster_forwarder(caf::local_actor* parent, node_actor node,
                                      std::string cluster_id, std::string mesh_secret,
                                      caf::timespan lease_ttl) {
  return parent->spawn<caf::monitored>(forwarder_behavior, std::move(node),
                                       std::move(cluster_id), std::move(mesh_secret),
                                       lease_ttl);
}

} // namespace diffplane
