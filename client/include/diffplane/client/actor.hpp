#pragma once

#include <diffplane/client/client.hpp>

#include <caf/all.hpp>

#include <unordered_map>

// The actor API of the native client: a typed CAF actor that calls functions for other
// actors. Header-only, so the client library itself does not depend on CAF; include it
// and link CAF (caf_core) to use it.
namespace diffplane::client {

using call_atom = caf::atom_constant<caf::atom("call")>;

/// Calls `service`.`fn` with msgpack `args` (pack_args(...)); answers the resolution's
/// msgpack (decode it with unpack_value<T>), or an error naming the rejection.
using client_actor = caf::typed_actor<
    caf::replies_to<call_atom, std::string, std::string, bytes>::with<bytes>>;

namespace detail {

using finished_atom = caf::atom_constant<caf::atom("finished")>;

struct client_actor_state {
  std::shared_ptr<client> connection;
  /// The options of every call the actor makes.
  call_options options;
  std::unordered_map<std::uint64_t, caf::typed_response_promise<bytes>> open;
  std::uint64_t next = 1;
  static inline const char* name = "diffplane.client";
};

/// A call's end, sent by the client's I/O thread to the actor that holds its promise.
struct finished_call {
  std::uint64_t id = 0;
  bool resolved = false;
  bytes value;
  std::string error;
};

inline caf::behavior client_actor_behavior(caf::stateful_actor<client_actor_state>* self,
                                           std::shared_ptr<client> connection,
                                           call_options options) {
  self->state.connection = std::move(connection);
  self->state.options = std::move(options);
  return {
      [self](call_atom, std::string& service, std::string& fn,
             bytes& args) -> caf::result<bytes> {
        auto id = self->state.next++;
        auto promise = self->make_response_promise<bytes>();
        self->state.open.emplace(id, promise);
        caf::actor me = caf::actor_cast<caf::actor>(self);
        self->state.connection->submit(
            std::move(service), std::move(fn), std::move(args), self->state.options,
            [me, id](call_outcome* outcome, std::exception_ptr error) {
              finished_call done{id, false, {}, {}};
              try {
                if (error)
                  std::rethrow_exception(error);
                if (outcome->result_type != "resolution")
                  throw error_of_rejection(outcome->value);
                done.resolved = true;
                done.value = std::move(outcome->value);
              } catch (const call_error& e) {
                done.error = e.name() + ": " + e.what();
              } catch (const std::exception& e) {
                done.error = e.what();
              }
              caf::anon_send(me, finished_atom::value, std::move(done));
            });
        return promise;
      },
      [self](finished_atom, finished_call& done) {
        auto it = self->state.open.find(done.id);
        if (it == self->state.open.end())
          return;
        if (done.resolved)
          it->second.deliver(std::move(done.value));
        else
          it->second.deliver(
              caf::make_error(caf::sec::runtime_error, std::move(done.error)));
        self->state.open.erase(it);
      },
  };
}

} // namespace detail

/// Spawns the actor that calls through `connection`, each call with `options` (for
/// example `durable = false` for an actor whose calls are all ephemeral).
inline client_actor spawn_client_actor(caf::actor_system& system,
                                       std::shared_ptr<client> connection,
                                       call_options options = {}) {
  return caf::actor_cast<client_actor>(system.spawn(
      detail::client_actor_behavior, std::move(connection), std::move(options)));
}

} // namespace diffplane::client

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(diffplane::client::detail::finished_call)
