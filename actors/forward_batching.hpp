#pragma once

#include "actors/forwarder_state.hpp"

#include <type_traits>

// The forwarder's batches (forward_batch.hpp): building them from the batchable
// requests of one mailbox turn, sending each to its gate at the end of the turn, handing
// the answers to the requesters, and ending the tries no answer came for in time.
namespace diffplane::forwarding {

/// Whether requests of type T travel in batches.
template <class... Ts>
constexpr bool batchable = sizeof...(Ts) == 1 &&
                           ((std::is_same_v<Ts, create_job_request> ||
                             std::is_same_v<Ts, jobs_request> ||
                             std::is_same_v<Ts, job_result_post> ||
                             std::is_same_v<Ts, status_request>)&&...);

/// Adds a request to the batch for `gate`; the first of a turn schedules the batches'
/// sending at the end of the turn (a message to ourselves, behind those queued now).
/// Its try (`attempts[id]`) is recorded by the caller. Defined for the batchable types.
template <class T>
void add_to_batch(self_pointer self, const mesh_gate_actor& gate, std::uint64_t id,
                  T request);

/// Sends the batches gathered in this turn (on forward_flush_atom).
void flush(self_pointer self);

/// Ends the batched tries that are overdue, as timed out (on forward_tick_atom).
void expire_overdue(self_pointer self);

/// Hands each answer of a batch to its requester; a failed one goes the way of a failed
/// try (tried again or answered with the error).
void take_answers(self_pointer self, forward_answers& answers);

/// Forgets what the batching knew of a gate that went down.
void forget_gate(self_pointer self, const caf::actor_addr& gate);

} // namespace diffplane::forwarding
