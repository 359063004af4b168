#include "actors/cluster_state.hpp"

#include "persistence/errors.hpp"

#include <algorithm>
#include <unordered_map>

namespace diffplane::cluster_internal {

namespace {

/// The index entry of each id, null for a job not in memory. A status poll repeats
/// hundreds of ids, so each is looked up once per request and the pointers reused.
std::vector<job_entry*> entries_of(cluster_state& st,
                                   const std::vector<std::string>& ids) {
  std::vector<job_entry*> entries;
  entries.reserve(ids.size());
  for (const auto& id : ids) {
    entries.push_back(st.jobs.find(id));
  }
  return entries;
}

/// The current rows of `ids`: from memory, else from `stored`; unknown ids are left out.
std::vector<job_status_row> rows_of(const std::vector<std::string>& ids,
                                    const std::vector<job_entry*>& entries,
                                    const std::vector<job_status_row>& stored) {
  std::unordered_map<std::string_view, const job_status_row*> stored_by_id;
  for (const auto& row : stored)
    stored_by_id.emplace(row.id, &row);
  std::vector<job_status_row> rows;
  rows.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (const auto* entry = entries[i]) {
      rows.push_back(
          job_status_row{ids[i], entry->status, entry->result_type, entry->result});
    } else if (auto s = stored_by_id.find(ids[i]); s != stored_by_id.end()) {
      rows.push_back(*s->second);
    }
  }
  return rows;
}

bool any_finished(const std::vector<job_status_row>& rows) {
  return std::any_of(rows.begin(), rows.end(),
                     [](const job_status_row& row) { return is_terminal(row.status); });
}

/// Answers a parked waiter with the current rows, `posted` in place of its job's row
/// when given (a result whose write is in flight).
void answer_waiter(self_pointer self, std::uint64_t id,
                   const job_status_row* posted = nullptr) {
  auto& st = self->state;
  auto it = st.waiters.find(id);
  if (it == st.waiters.end())
    return;
  auto& waiter = it->second;
  for (auto* entry : waiter.entries)
    if (entry != nullptr)
      std::erase(entry->waiters, id);
  auto rows = rows_of(waiter.ids, waiter.entries, waiter.stored);
  if (posted != nullptr)
    for (auto& row : rows)
      if (row.id == posted->id)
        row = *posted;
  waiter.promise.deliver(std::move(rows));
  st.waiter_expiries.remove(id, waiter.expires_at);
  st.waiters.erase(it);
  st.parked.unpark();
}

void arm_waiter_timer(self_pointer self, std::optional<steady_time> at) {
  if (at)
    self->delayed_send(self, *at - self->clock().now(), waiter_expired_atom::value,
                       expiry_schedule<steady_time>::encode(*at));
}

/// Answers now when a job is finished (or the ttl is spent), else parks a waiter.
void settle(self_pointer self, rows_promise promise, status_request request,
            std::vector<job_entry*> entries, std::vector<job_status_row> stored,
            result_moment moment) {
  auto& st = self->state;
  auto rows = rows_of(request.ids, entries, stored);
  if (request.single && rows.empty()) {
    promise.deliver(
        make_error(error_code::not_found, "job " + request.ids.front() + " not found"));
    return;
  }
  if (any_finished(rows) || request.ttl_ms <= 0 || rows.empty()) {
    promise.deliver(std::move(rows));
    return;
  }
  if (st.parked.try_park() != parked_polls::refusal::none) {
    // No place to wait: the caller asks again, as after an empty long-poll.
    promise.deliver(std::move(rows));
    return;
  }
  auto id = st.next_waiter_id++;
  for (auto* entry : entries)
    if (entry != nullptr)
      entry->waiters.push_back(id);
  auto expires_at = self->clock().now() + std::chrono::milliseconds{request.ttl_ms};
  st.waiters.emplace(id, result_waiter{promise, std::move(request.ids), std::move(entries),
                                       std::move(stored), moment, expires_at});
  arm_waiter_timer(self, st.waiter_expiries.add(id, expires_at));
}

} // namespace

namespace {

/// Whether a job of `stored` is live yet not in memory: a job of a page still to come.
bool awaits_load(const cluster_state& st, const std::vector<job_status_row>& stored) {
  return std::any_of(stored.begin(), stored.end(), [&](const job_status_row& row) {
    return !is_terminal(row.status) && !st.jobs.contains(row.id);
  });
}

void answer_status_into(self_pointer self, rows_promise promise, status_request request,
                        result_moment moment) {
  auto& st = self->state;
  auto entries = entries_of(st, request.ids);
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (entries[i] == nullptr)
      missing.push_back(request.ids[i]);
  if (missing.empty()) {
    settle(self, promise, std::move(request), std::move(entries), {}, moment);
    return;
  }
  self->request(st.context.reader, caf::infinite, fetch_statuses_atom::value,
                st.context.cluster.id, std::move(missing))
      .then(
          [self, promise, request, moment](std::vector<job_status_row>& stored) mutable {
            // Rows are answered from the database at once; a long-poll of a live job
            // not loaded yet waits for the load, then watches the job.
            if (request.ttl_ms > 0 && awaits_load(self->state, stored) &&
                hold_while_loading(self, [self, promise, request,
                                          moment](const caf::error& err) mutable {
                  if (err)
                    promise.deliver(err);
                  else
                    answer_status_into(self, promise, std::move(request), moment);
                }))
              return;
            // Entries may have been dropped while the database answered: look again.
            auto entries = entries_of(self->state, request.ids);
            settle(self, promise, std::move(request), std::move(entries),
                   std::move(stored), moment);
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
}

} // namespace

caf::result<std::vector<job_status_row>>
answer_status(self_pointer self, status_request request, result_moment moment) {
  auto& st = self->state;
  if (request.ids.size() > st.context.options.batch_status_max_ids)
    return make_error(
        error_code::bad_request,
        "jobIds has " + std::to_string(request.ids.size()) + " ids; at most " +
            std::to_string(st.context.options.batch_status_max_ids) + " are accepted");
  auto promise = self->make_response_promise<std::vector<job_status_row>>();
  answer_status_into(self, promise, std::move(request), moment);
  return promise;
}

bool waits_for_posted(const cluster_state& st, const job_entry& entry) {
  return std::any_of(entry.waiters.begin(), entry.waiters.end(), [&](std::uint64_t id) {
    auto waiter = st.waiters.find(id);
    return waiter != st.waiters.end() && waiter->second.moment == result_moment::posted;
  });
}

void on_result_posted(self_pointer self, const job_status_row& row) {
  auto& st = self->state;
  // Waiters wait for live jobs only.
  auto* entry = st.jobs.find_live(row.id);
  if (entry == nullptr)
    return;
  std::vector<std::uint64_t> takers;
  for (auto id : entry->waiters)
    if (auto waiter = st.waiters.find(id);
        waiter != st.waiters.end() && waiter->second.moment == result_moment::posted)
      takers.push_back(id);
  for (auto id : takers)
    answer_waiter(self, id, &row);
}

void on_job_finished(self_pointer self, job_finished& finished) {
  forward_finished_work(self, finished);
  auto& st = self->state;
  auto& row = finished.row;
  auto [found, is_new] = st.jobs.enter_finished(row.id);
  auto& entry = *found;
  if (!is_new && !is_terminal(entry.status)) {
    --st.live_jobs;
    count_live_job(st, entry.pool, -1);
    note_pool_activity(self, entry.pool);
  }
  entry.status = row.status;
  entry.result_type = row.result_type;
  // Its arguments left memory with its job actor; its result is held until it lingers
  // out (drop_lingering_results), whatever its size: a result is never refused.
  st.held.recount(entry.bytes, row.result.size());
  entry.result = std::move(row.result);
  if (row.status == job_status::success && row.result_type == result_kind::resolution &&
      !finished.cache_key.empty())
    st.cache.insert_or_assign(
        cache_key_of(finished.service, finished.target_fn, finished.cache_key),
        cache_hit{row.id, finished.resulted_at});
  // The message's copy of the id is not needed past here.
  st.finished.emplace_back(self->clock().now(), std::move(row.id));
  auto waiters = std::move(entry.waiters);
  entry.waiters.clear();
  for (auto id : waiters)
    answer_waiter(self, id);
}

void expire_waiters(self_pointer self, std::uint64_t armed) {
  auto& st = self->state;
  auto fired = st.waiter_expiries.fire(expiry_schedule<steady_time>::decode(armed),
                                       self->clock().now());
  for (auto id : fired.due)
    answer_waiter(self, id);
  arm_waiter_timer(self, fired.arm);
}

void release_waiters(self_pointer self) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, waiter] : self->state.waiters)
    ids.push_back(id);
  for (auto id : ids)
    answer_waiter(self, id);
}

void drop_lingering_results(self_pointer self, steady_time now) {
  auto& st = self->state;
  auto linger = st.context.options.result_linger;
  while (!st.finished.empty() && st.finished.front().first + linger <= now) {
    // A job admitted again since (its entry live) stays.
    st.held.release(st.jobs.drop_finished(st.finished.front().second));
    st.finished.pop_front();
  }
  auto horizon = std::chrono::duration_cast<std::chrono::milliseconds>(
                     st.context.options.cache_horizon)
                     .count();
  auto oldest = wall_now(self) - horizon;
  // The cache is small next to the job index; pruning it costs one pass now and then.
  if (++st.sweeps % 64 == 0)
    std::erase_if(st.cache,
                  [oldest](const auto& kv) { return kv.second.resulted_at < oldest; });
}

} // namespace diffplane::cluster_internal
