#include "bench/tools/commit_pipeline.hpp"

#include "bench/tools/commit_figures.hpp"
#include "bench/tools/pipeline_scratch.hpp"
#include "bench/tools/pipelined_session.hpp"
#include "bench/tools/tool_common.hpp"
#include "persistence/sql_jobs.hpp"
#include "persistence/write_plans.hpp"

#include <poll.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>

namespace diffplane::bench {

namespace {

using clock_type = std::chrono::steady_clock;

/// A write waiting to be sent, with when it arrived (for the latency of a create).
template <class Row> struct arrival {
  Row row;
  clock_type::time_point at;
};

struct sent_batch {
  std::vector<arrival<job_record>> created;
  std::size_t results = 0;
  clock_type::time_point sent;
};

/// A closed loop of fixed batches (batch_jobs > 0), an offered rate of jobs a second,
/// or a fixed number of creates in flight, each followed by the next once answered (the
/// saturated cycle's callers).
struct workload {
  int batch_jobs = 0;
  int rate = 0;
  int in_flight = 0;
};

class pipeline_run {
public:
  pipeline_run(const commit_pipeline_plan& plan, const scratch& s, commit_mode mode,
               workload load)
      : plan_(plan), scratch_(s), load_(load), jobs_(s.cluster_id) {
    const auto& text = persistence::sql::fenced_write_jobs_call({}, {}, s.gate).text;
    for (int i = 0; i < mode.connections; ++i) {
      auto& session = sessions_.emplace_back(
          std::make_unique<pipelined_session>(plan.database_url, mode.depth));
      for (const auto& [name, value] : persistence::write_plan_settings())
        session->set(name, value);
      try {
        session->set("track_wal_io_timing", "on");
      } catch (const std::exception&) {
        // Not a superuser: the flushes are counted, not timed.
      }
      session->prepare(statement, text);
    }
    in_flight_.resize(sessions_.size());
  }

  run_figures run() {
    const auto start = clock_type::now();
    start_ = start;
    waiting_.assign(static_cast<std::size_t>(std::max(load_.in_flight, 0)), start);
    const auto measure_from =
        start + std::chrono::duration_cast<clock_type::duration>(
                    std::chrono::duration<double>(plan_.warmup_seconds));
    const auto end = measure_from + std::chrono::duration_cast<clock_type::duration>(
                                        std::chrono::duration<double>(plan_.seconds));
    cpu_totals first;
    for (auto now = start; now < end; now = clock_type::now()) {
      if (!measuring_ && now >= measure_from) {
        measuring_ = true;
        first = read_cpu_totals(backend_pids());
      }
      for (std::size_t i = 0; i < sessions_.size(); ++i)
        while (sessions_[i]->can_send() && send_batch(i, now))
          ;
      wait_and_read(next_arrival(now));
    }
    auto last = read_cpu_totals(backend_pids());
    figures_.seconds =
        std::chrono::duration<double>(clock_type::now() - measure_from).count();
    figures_.cpu = {last.backends - first.backends, last.postgres - first.postgres,
                    last.client - first.client};
    measuring_ = false;
    // Every statement sent is answered before the sessions close.
    while (std::any_of(sessions_.begin(), sessions_.end(),
                       [](const auto& s) { return s->in_flight() > 0; }))
      wait_and_read(std::chrono::milliseconds{100});
    return figures_;
  }

private:
  static constexpr const char* statement = "diffplane_write_jobs_fenced";

  std::vector<int> backend_pids() const {
    std::vector<int> pids;
    for (const auto& session : sessions_)
      pids.push_back(session->backend_pid());
    return pids;
  }

  /// How long poll may sleep: until the next create is due at an offered rate when a
  /// session could send it, else until an answer comes.
  clock_type::duration next_arrival(clock_type::time_point now) const {
    const bool idle = std::any_of(sessions_.begin(), sessions_.end(),
                                  [](const auto& s) { return s->can_send(); });
    if (idle && load_.in_flight > 0 &&
        (!later_creates_.empty() || !later_results_.empty())) {
      auto due = clock_type::time_point::max();
      if (!later_creates_.empty())
        due = *later_creates_.begin();
      if (!later_results_.empty())
        due = std::min(due, later_results_.begin()->first);
      return due > now ? due - now : clock_type::duration::zero();
    }
    if (load_.rate <= 0 || !idle)
      return std::chrono::milliseconds{100};
    const auto due = start_ + std::chrono::duration_cast<clock_type::duration>(
                                  std::chrono::duration<double>(
                                      static_cast<double>(generated_ + 1) / load_.rate));
    return due > now ? due - now : clock_type::duration::zero();
  }

  /// A caller's or a worker's time between an answer and its next write: uniform within
  /// half to one and a half times --think-ms, so that writes trickle in as HTTP requests
  /// do.
  clock_type::duration think() {
    if (plan_.think_ms <= 0)
      return {};
    std::uniform_real_distribution<double> spread{0.5 * plan_.think_ms,
                                                  1.5 * plan_.think_ms};
    return std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double, std::milli>(spread(random_)));
  }

  /// Moves the creates and results whose think time has passed to the waiting writes.
  void take_due(clock_type::time_point now) {
    for (auto it = later_creates_.begin(); it != later_creates_.end() && *it <= now;
         it = later_creates_.erase(it))
      waiting_.push_back(*it);
    for (auto it = later_results_.begin(); it != later_results_.end() && it->first <= now;
         it = later_results_.erase(it))
      ready_.push_back({std::move(it->second), it->first});
  }

  /// Takes the writes due for one batch; false when there are none.
  bool send_batch(std::size_t session, clock_type::time_point now) {
    sent_batch batch;
    batch.sent = now;
    std::vector<const job_state_write*> states;
    const auto cap = static_cast<std::size_t>(plan_.max_batch_writes);
    if (load_.batch_jobs > 0) {
      for (int i = 0; i < load_.batch_jobs; ++i)
        batch.created.push_back({jobs_.create(), now});
      batch.results = std::min(ready_.size(), static_cast<std::size_t>(load_.batch_jobs));
    } else if (load_.in_flight > 0) {
      take_due(now);
      batch.results = std::min(ready_.size(), cap);
      for (; !waiting_.empty() && batch.results + batch.created.size() < cap;
           waiting_.pop_front())
        batch.created.push_back({jobs_.create(), waiting_.front()});
    } else {
      batch.results = std::min(ready_.size(), cap);
      const auto due = static_cast<std::int64_t>(
          std::chrono::duration<double>(now - start_).count() * load_.rate);
      for (; generated_ < due && batch.results + batch.created.size() < cap; ++generated_)
        batch.created.push_back(
            {jobs_.create(),
             start_ + std::chrono::duration_cast<clock_type::duration>(
                          std::chrono::duration<double>(static_cast<double>(generated_) /
                                                        load_.rate))});
    }
    if (batch.created.empty() && batch.results == 0)
      return false;
    std::vector<const job_record*> created;
    for (const auto& a : batch.created)
      created.push_back(&a.row);
    for (std::size_t i = 0; i < batch.results; ++i)
      states.push_back(&ready_[i].row);
    auto call = persistence::sql::fenced_write_jobs_call(created, states, scratch_.gate);
    sessions_[session]->send(call.name, call.params);
    ready_.erase(ready_.begin(), ready_.begin() + static_cast<long>(batch.results));
    in_flight_[session].push_back(std::move(batch));
    return true;
  }

  void wait_and_read(clock_type::duration timeout) {
    std::vector<pollfd> fds;
    for (const auto& s : sessions_)
      fds.push_back({s->socket(),
                     static_cast<short>(POLLIN | (s->wants_write() ? POLLOUT : 0)), 0});
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
    timespec limit{static_cast<time_t>(ns / 1000000000),
                   static_cast<long>(ns % 1000000000)};
    if (ppoll(fds.data(), fds.size(), &limit, nullptr) <= 0)
      return;
    std::vector<statement_answer> answers;
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
      if (fds[i].revents == 0)
        continue;
      answers.clear();
      sessions_[i]->on_ready(fds[i].revents, answers);
      for (auto& answer : answers)
        take_answer(i, answer);
    }
  }

  void take_answer(std::size_t session, const statement_answer& answer) {
    auto batch = std::move(in_flight_[session].front());
    in_flight_[session].pop_front();
    const auto now = clock_type::now();
    if (!answer.ok || answer.rows != 1) {
      if (figures_.failures++ == 0)
        figures_.first_failure =
            answer.ok ? "the lease was not held" : answer.error.substr(0, 300);
      return;
    }
    ++figures_.all_commits;
    // The creates committed: their results may come now (a worker's post).
    for (const auto& a : batch.created) {
      if (load_.in_flight > 0)
        later_results_.emplace(now + think(), job_source::result_of(a.row));
      else
        ready_.push_back({job_source::result_of(a.row), now});
      // A caller whose create was answered sends its next one.
      if (load_.in_flight > 0)
        later_creates_.insert(now + think());
    }
    if (!measuring_)
      return;
    ++figures_.commits;
    figures_.writes += static_cast<std::int64_t>(batch.created.size() + batch.results);
    figures_.creates += static_cast<std::int64_t>(batch.created.size());
    if (load_.batch_jobs > 0)
      figures_.latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(now - batch.sent).count());
    else
      for (const auto& a : batch.created)
        figures_.latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(now - a.at).count());
  }

  const commit_pipeline_plan& plan_;
  const scratch& scratch_;
  workload load_;
  job_source jobs_;
  std::vector<std::unique_ptr<pipelined_session>> sessions_;
  std::vector<std::deque<sent_batch>> in_flight_;
  std::deque<arrival<job_state_write>> ready_;
  clock_type::time_point start_;
  std::int64_t generated_ = 0;
  /// With a fixed number of creates in flight: those waiting to be sent, by arrival.
  std::deque<clock_type::time_point> waiting_;
  /// Their next creates and their results, still in the caller's or worker's think time.
  std::multiset<clock_type::time_point> later_creates_;
  std::multimap<clock_type::time_point, job_state_write> later_results_;
  std::mt19937_64 random_{std::random_device{}()};
  bool measuring_ = false;
  run_figures figures_;
};

} // namespace

int commit_pipeline(const commit_pipeline_plan& plan, std::ostream& out) {
  pqxx::connection admin{plan.database_url};
  const auto s = make_scratch(admin);
  std::vector<workload> loads;
  for (int b : plan.batch_jobs)
    loads.push_back({b, 0, 0});
  for (int r : plan.rates)
    loads.push_back({0, r, 0});
  for (int n : plan.in_flight)
    loads.push_back({0, 0, n});
  print_header(out);
  std::int64_t failures = 0;
  for (int round = 0; round < plan.rounds; ++round)
    for (const auto& load : loads)
      for (const auto& mode : plan.modes) {
        // Each run starts from a flushed buffer cache: its commits write full pages
        // alike.
        pqxx::nontransaction{admin}.exec("CHECKPOINT");
        const double load_avg = load_average();
        const auto flushes_before = read_wal_flushes(admin);
        auto figures = pipeline_run{plan, s, mode, load}.run();
        // A backend reports its WAL figures when it ends.
        std::this_thread::sleep_for(std::chrono::milliseconds{300});
        const auto flushes_after = read_wal_flushes(admin);
        const auto flushes = flushes_after.count - flushes_before.count;
        figures.flushes_per_commit =
            static_cast<double>(flushes) /
            static_cast<double>(std::max<std::int64_t>(figures.all_commits, 1));
        figures.flush_ms = (flushes_after.ms - flushes_before.ms) /
                           static_cast<double>(std::max<std::int64_t>(flushes, 1));
        const auto what = load.batch_jobs > 0
                              ? "batches of " + std::to_string(load.batch_jobs) + " jobs"
                          : load.rate > 0
                              ? std::to_string(load.rate) + " jobs/s offered"
                              : std::to_string(load.in_flight) + " creates in flight";
        print_row(out, what, mode, load_avg, figures);
        if (figures.failures > 0) {
          failures += figures.failures;
          std::fprintf(stderr, "benchtool: %lld statements failed; first: %s\n",
                       static_cast<long long>(figures.failures),
                       figures.first_failure.c_str());
        }
      }
  return failures == 0 ? 0 : 1;
}

} // namespace diffplane::bench
