#pragma once

#include "actors/messages.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>

#include <cstdint>
#include <string>
#include <vector>

// The hot requests a node forwards to the owner of their cluster (creates, worker polls,
// results, status waits) travel in batches: what a forwarder got in one turn of its
// mailbox goes to the owner's gate as one message, and what the gate's cluster answered
// in one turn comes back as one. Each message through CAF's middleman costs thread
// wake-ups on both nodes, far more than its bytes.
namespace diffplane {

/// Sent by an actor to itself: send what was gathered in this turn of the mailbox.
using forward_flush_atom = caf::atom_constant<caf::atom("fwdflush")>;
/// Sent by a forwarder to itself while tries are out: end the overdue ones.
using forward_tick_atom = caf::atom_constant<caf::atom("fwdtick")>;

/// A request or an answer of a batch, with the id that pairs them.
template <class T> struct batched {
  std::uint64_t id = 0;
  T value;

  bool operator==(const batched&) const = default;
};

/// Requests of one cluster, from one forwarder to the gate of the node serving it.
struct forward_batch {
  std::string secret;
  std::string cluster_id;
  std::vector<batched<create_job_request>> creates;
  std::vector<batched<jobs_request>> polls;
  std::vector<batched<job_result_post>> results;
  std::vector<batched<status_request>> status_waits;

  bool operator==(const forward_batch&) const = default;
  std::size_t size() const {
    return creates.size() + polls.size() + results.size() + status_waits.size();
  }
};

/// Answers to the requests of batches, from a gate to the forwarder that sent them.
struct forward_answers {
  std::vector<batched<std::string>> created;
  std::vector<batched<std::vector<dispatched_job>>> dispatched;
  std::vector<batched<bool>> posted;
  std::vector<batched<std::vector<job_status_row>>> statuses;
  std::vector<batched<caf::error>> failed;

  bool operator==(const forward_answers&) const = default;
  bool empty() const {
    return created.empty() && dispatched.empty() && posted.empty() && statuses.empty() &&
           failed.empty();
  }
};

template <class Inspector, class T> auto inspect(Inspector& f, batched<T>& x) {
  return f(x.id, x.value);
}

template <class Inspector> auto inspect(Inspector& f, forward_batch& x) {
  return f(x.secret, x.cluster_id, x.creates, x.polls, x.results, x.status_waits);
}

template <class Inspector> auto inspect(Inspector& f, forward_answers& x) {
  return f(x.created, x.dispatched, x.posted, x.statuses, x.failed);
}

} // namespace diffplane
