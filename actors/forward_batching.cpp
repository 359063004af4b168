#include "actors/forward_batching.hpp"

#include "metrics/catalog.hpp"

#include <spdlog/spdlog.h>

namespace diffplane::forwarding {

namespace {

/// How often a forwarder with batched tries out looks for overdue ones: one timer for
/// all of them instead of two events in CAF's clock thread per try.
constexpr auto tick_interval = std::chrono::milliseconds{50};

void add_to(forward_batch& b, std::uint64_t id, create_job_request r) {
  b.creates.push_back({id, std::move(r)});
}
void add_to(forward_batch& b, std::uint64_t id, jobs_request r) {
  b.polls.push_back({id, std::move(r)});
}
void add_to(forward_batch& b, std::uint64_t id, job_result_post r) {
  b.results.push_back({id, std::move(r)});
}
void add_to(forward_batch& b, std::uint64_t id, status_request r) {
  b.status_waits.push_back({id, std::move(r)});
}

void schedule_tick(self_pointer self) {
  if (self->state.batching.ticking)
    return;
  self->state.batching.ticking = true;
  self->delayed_send(self, tick_interval, forward_tick_atom::value);
}

/// The batched try `id` if `from` is the gate it went to: only that gate answers it.
forwarder_state::attempt* batched_attempt(self_pointer self, std::uint64_t id,
                                          const caf::actor_addr& from) {
  auto it = self->state.attempts.find(id);
  if (it == self->state.attempts.end() || it->second.gate != from || !it->second.promise)
    return nullptr;
  return &it->second;
}

template <class Reply>
void deliver_each(self_pointer self, const caf::actor_addr& from,
                  std::vector<batched<Reply>>& answers) {
  for (auto& answer : answers) {
    auto* try_ = batched_attempt(self, answer.id, from);
    if (try_ == nullptr)
      continue; // overdue and tried again, or not ours
    auto* promise = std::get_if<caf::typed_response_promise<Reply>>(&*try_->promise);
    if (promise == nullptr)
      continue; // an answer of the wrong kind: the try ends when it is overdue
    auto delivered = std::move(*promise);
    auto started = try_->started;
    self->state.attempts.erase(answer.id);
    self->state.silent_since.reset();
    auto& stats = metrics::forwarding();
    stats.forwarded.add();
    stats.seconds.observe(
        std::chrono::duration<double>(self->clock().now() - started).count());
    delivered.deliver(std::move(answer.value));
  }
}

} // namespace

template <class T>
void add_to_batch(self_pointer self, const mesh_gate_actor& gate, std::uint64_t id,
                  T request) {
  auto& st = self->state;
  auto& out = st.batching.outgoing_batches[gate.address()];
  if (!out.gate) {
    out.gate = gate;
    out.batch.secret = st.secret;
    out.batch.cluster_id = st.cluster_id;
  }
  add_to(out.batch, id, std::move(request));
  if (!st.batching.flush_pending) {
    st.batching.flush_pending = true;
    self->send(self, forward_flush_atom::value);
  }
  schedule_tick(self);
}

template void add_to_batch(self_pointer, const mesh_gate_actor&, std::uint64_t,
                           create_job_request);
template void add_to_batch(self_pointer, const mesh_gate_actor&, std::uint64_t,
                           jobs_request);
template void add_to_batch(self_pointer, const mesh_gate_actor&, std::uint64_t,
                           job_result_post);
template void add_to_batch(self_pointer, const mesh_gate_actor&, std::uint64_t,
                           status_request);

void flush(self_pointer self) {
  auto& st = self->state.batching;
  st.flush_pending = false;
  for (auto& [addr, out] : st.outgoing_batches) {
    if (out.batch.size() == 0)
      continue;
    metrics::forwarding().batches.add();
    self->send(out.gate, std::move(out.batch));
  }
  st.outgoing_batches.clear();
}

void expire_overdue(self_pointer self) {
  auto& st = self->state;
  st.batching.ticking = false;
  auto now = self->clock().now();
  std::vector<std::function<void(const caf::error&)>> overdue;
  bool batched_left = false;
  for (auto it = st.attempts.begin(); it != st.attempts.end();) {
    if (it->second.promise && it->second.due <= now) {
      if (st.batching.batch_readers.count(it->second.gate) == 0 &&
          st.batching.unbatched.insert(it->second.gate).second)
        spdlog::warn("event=forward_batches_unanswered cluster={} action=\"requests to "
                     "that node go one at a time\"",
                     st.cluster_id);
      overdue.push_back(std::move(it->second.fail));
      it = st.attempts.erase(it);
    } else {
      batched_left = batched_left || it->second.promise.has_value();
      ++it;
    }
  }
  for (auto& fail : overdue)
    fail(caf::sec::request_timeout);
  if (batched_left)
    schedule_tick(self);
}

void take_answers(self_pointer self, forward_answers& answers) {
  auto from = caf::actor_cast<caf::actor_addr>(self->current_sender());
  if (self->state.monitored.count(from) > 0)
    self->state.batching.batch_readers.insert(from);
  deliver_each(self, from, answers.created);
  deliver_each(self, from, answers.dispatched);
  deliver_each(self, from, answers.posted);
  deliver_each(self, from, answers.statuses);
  for (auto& answer : answers.failed) {
    auto* try_ = batched_attempt(self, answer.id, from);
    if (try_ == nullptr)
      continue;
    auto fail = std::move(try_->fail);
    self->state.attempts.erase(answer.id);
    fail(answer.value);
  }
}

void forget_gate(self_pointer self, const caf::actor_addr& gate) {
  auto& st = self->state.batching;
  st.outgoing_batches.erase(gate);
  st.batch_readers.erase(gate);
  st.unbatched.erase(gate);
}

} // namespace diffplane::forwarding
