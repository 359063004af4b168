#include "gateway/make_actor_bridge.hpp"

#include "actors/secrets.hpp"
#include "gateway/deferred_wakes.hpp"
#include "gateway/held_requests.hpp"
#include "gateway/request_deadlines.hpp"
#include "persistence/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <functional>
#include <shared_mutex>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace diffplane::gateway {
namespace {

/// What a bridge actor keeps: the deadlines of its hot-path requests, and those
/// requests by the cluster actor holding them.
struct bridge_state {
  request_deadlines deadlines;
  held_requests held;
  /// Whether a deadline check is scheduled (none while no request is open, so an idle
  /// bridge has no timer).
  bool checking = false;
  /// Wakes of HTTP threads kept by the answers of this turn (see deferred_wakes), and
  /// whether the message that makes them at the turn's end is on its way.
  deferred_wakes wakes;
  bool waking = false;
  static inline const char* name = "diffplane.bridge";
};

using bridge_actor = caf::stateful_actor<bridge_state>;

using task_function = std::function<void(bridge_actor*)>;

/// Work a bridge actor runs in its own context, so it can make asynchronous requests.
struct bridge_task {
  task_function run;
  /// The bridge that sent it (see running_bridge).
  const void* owner = nullptr;
};

/// The bridge actor running on this thread now (a task, or an answer to one of its
/// hot-path requests), and the bridge it serves: a request that bridge makes from here
/// runs in it at once instead of as one more message to a bridge actor (a native call's
/// result wait, parked from its create's answer).
struct running_bridge {
  const void* owner = nullptr;
  bridge_actor* self = nullptr;
};
thread_local running_bridge running;

/// Sets `running` for a scope.
class running_scope {
public:
  running_scope(const void* owner, bridge_actor* self) : saved_(running) {
    running = {owner, self};
  }
  ~running_scope() { running = saved_; }
  running_scope(const running_scope&) = delete;
  running_scope& operator=(const running_scope&) = delete;

private:
  running_bridge saved_;
};

/// The tasks this thread gathers between a bridge's begin_batch() and end_batch().
struct task_batch {
  const void* owner = nullptr;
  int depth = 0;
  std::vector<task_function> tasks;
};
thread_local task_batch batching;

} // namespace
} // namespace diffplane::gateway

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(diffplane::gateway::bridge_task)

namespace diffplane::gateway {
namespace {

/// Requests that carry no long-poll get this long before they count as failed.
constexpr auto request_timeout = std::chrono::seconds{30};
/// A long-poll's own ttl plus this margin.
constexpr auto long_poll_margin = std::chrono::seconds{10};
/// How often a bridge actor with open requests looks for overdue ones.
constexpr auto deadline_check_interval = std::chrono::seconds{1};
/// How often one request finds its cluster again (bounced, refused as moved, or parked
/// in an actor that died): a cluster that crashes again and again is reported, not
/// chased until the request's deadline.
constexpr int max_finds = 3;
/// How long a request found again waits for a cluster that is starting (restarted after
/// a crash, about 200 ms, then its settings and machines load), asking every pause; then
/// it is answered `unavailable` (503), which clients retry.
constexpr auto restart_wait = std::chrono::seconds{5};
constexpr auto restart_retry_pause = std::chrono::milliseconds{100};

using check_deadlines_atom = caf::atom_constant<caf::atom("deadlines")>;
using make_wakes_atom = caf::atom_constant<caf::atom("bridgewake")>;

/// Runs `answer` (a hot-path request's callback) with the wakes it makes kept until this
/// turn's end: a message to self, queued behind the answers already in the mailbox.
/// A callback that throws still has its wakes made.
template <class F> void answer_in_turn(bridge_actor* self, F&& answer) {
  struct wake_at_turn_end {
    bridge_actor* self;
    ~wake_at_turn_end() {
      if (self->state.wakes.empty() || self->state.waking)
        return;
      self->state.waking = true;
      self->send(self, make_wakes_atom::value);
    }
  } at_end{self};
  deferred_wakes::scope scope{self->state.wakes};
  answer();
}

void schedule_deadline_check(bridge_actor* self) {
  if (self->state.checking || self->state.deadlines.empty())
    return;
  self->state.checking = true;
  self->delayed_send(self, deadline_check_interval, check_deadlines_atom::value);
}

caf::behavior bridge_behavior(bridge_actor* self) {
  // A cluster actor that died (crashed, or killed with the persistence actors) never
  // answers what it parked: each request it held goes where the cluster is served now.
  self->set_down_handler([self](caf::down_msg& msg) {
    for (auto& request : self->state.held.take(msg.source.get()))
      request->holder_down();
    schedule_deadline_check(self);
  });
  // A throwing callback must not take the bridge down: every later request would hang.
  self->set_exception_handler(
      [](caf::scheduled_actor*, std::exception_ptr& ptr) -> caf::error {
        try {
          std::rethrow_exception(ptr);
        } catch (const std::exception& e) {
          spdlog::error("event=bridge_exception reason=\"{}\"", e.what());
        } catch (...) {
          spdlog::error("event=bridge_exception reason=unknown");
        }
        return caf::exit_reason::unhandled_exception;
      });
  return {
      [self](bridge_task& task) {
        running_scope scope{task.owner, self};
        try {
          task.run(self);
        } catch (const std::exception& e) {
          spdlog::error("event=bridge_task_failed reason=\"{}\"", e.what());
        }
        schedule_deadline_check(self);
      },
      [self](make_wakes_atom) {
        self->state.waking = false;
        self->state.wakes.flush();
      },
      [self](check_deadlines_atom) {
        self->state.checking = false;
        self->state.deadlines.expire_due(std::chrono::steady_clock::now());
        schedule_deadline_check(self);
      },
  };
}

domain_error domain_error_of(const caf::error& err) {
  return domain_error{code_of(err), message_of(err)};
}

const cluster_actor& actor_of(const cluster_ref& ref) {
  return *static_cast<const cluster_actor*>(ref.actor.get());
}

/// The key of the cluster actor behind `ref` in held_requests and in down messages.
held_requests::holder holder_of(const cluster_ref& ref) {
  return caf::actor_cast<caf::actor_control_block*>(actor_of(ref));
}

/// What a request parked in a cluster actor that died gets once it is found nowhere.
caf::error holder_died() {
  return make_error(error_code::unavailable,
                    "the cluster restarted while it held the request; retry");
}

/// A request of several elements (an atom and its message) travels as a tuple.
template <class Message>
auto request_to(bridge_actor* self, const cluster_actor& actor, const Message& message) {
  return self->request(actor, caf::infinite, message);
}

template <class... Ts>
auto request_to(bridge_actor* self, const cluster_actor& actor,
                const std::tuple<Ts...>& message) {
  return std::apply(
      [&](const auto&... xs) { return self->request(actor, caf::infinite, xs...); },
      message);
}

class caf_actor_bridge final : public actor_bridge {
public:
  caf_actor_bridge(caf::actor_system& system, node_actor node, std::size_t count)
      : system_(system), node_(std::move(node)) {
    for (std::size_t i = 0; i < std::max<std::size_t>(count, 1); ++i)
      workers_.push_back(system.spawn(bridge_behavior));
  }

  /// Returns once the bridge actors are gone. Their pending answers hold the HTTP
  /// sessions that wait for them, and a session must not outlive its server's
  /// io_context: destroyed later, on an actor thread, it cancelled a timer of a service
  /// that no longer existed (UBSan, at shutdown with a create in flight).
  ~caf_actor_bridge() override {
    for (auto& worker : workers_)
      caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
    caf::scoped_actor self{system_};
    self->wait_for(workers_);
  }

  void authenticate(const std::string& secret, callback<cluster_ref> done) override {
    auto hash = secrets::sha256(secret);
    {
      std::shared_lock lock{cache_mutex_};
      if (auto it = cache_.find(hash); it != cache_.end()) {
        auto ref = it->second;
        lock.unlock();
        done(outcome<cluster_ref>::success(std::move(ref)));
        return;
      }
    }
    run([this, hash, done](bridge_actor* self) {
      self->request(node_, request_timeout, authenticate_atom::value, hash)
          .then(
              [this, hash, done](std::string& /* cluster id */, cluster_actor& actor) {
                cluster_ref ref{std::make_shared<const cluster_actor>(std::move(actor)),
                                hash};
                {
                  std::unique_lock lock{cache_mutex_};
                  cache_.insert_or_assign(hash, ref);
                }
                done(outcome<cluster_ref>::success(std::move(ref)));
              },
              [done](caf::error& err) {
                done(outcome<cluster_ref>::failure(domain_error_of(err)));
              });
    });
  }

  void create_cluster(std::string description, callback<cluster_record> done) override {
    ask<cluster_record>(node_, request_timeout, std::move(done),
                        create_cluster_atom::value, std::move(description));
  }

  void nodes(callback<membership_view> done) override {
    ask<membership_view>(node_, request_timeout, std::move(done), nodes_atom::value);
  }

  void list_clusters(callback<std::vector<cluster_record>> done) override {
    ask<std::vector<cluster_record>>(node_, request_timeout, std::move(done),
                                     list_clusters_atom::value);
  }

  void cluster_details(std::string cluster_id,
                       callback<diffplane::cluster_details> done) override {
    ask_cluster_by_id<diffplane::cluster_details>(std::move(cluster_id), std::move(done),
                                                  details_atom::value);
  }

  void service_details(std::string cluster_id, service_details_request request,
                       callback<diffplane::service_details> done) override {
    ask_cluster_by_id<diffplane::service_details>(std::move(cluster_id), std::move(done),
                                                  std::move(request));
  }

  void settings(std::string cluster_id, callback<cluster_settings> done) override {
    ask_cluster_by_id<cluster_settings>(std::move(cluster_id), std::move(done),
                                        settings_atom::value);
  }

  void change_settings(std::string cluster_id, cluster_settings settings,
                       callback<bool> done) override {
    ask_cluster_by_id<done_atom>(
        std::move(cluster_id),
        [done](outcome<done_atom> result) {
          if (result.ok())
            done(outcome<bool>::success(true));
          else
            done(outcome<bool>::failure(result.error));
        },
        settings);
  }

  void activity(std::string cluster_id, activity_query query,
                callback<std::vector<event_record>> done) override {
    ask_cluster_by_id<std::vector<event_record>>(std::move(cluster_id), std::move(done),
                                                 std::move(query));
  }

  void service_metrics(std::string cluster_id, metrics_query query,
                       callback<function_metrics> done) override {
    ask_cluster_by_id<function_metrics>(std::move(cluster_id), std::move(done),
                                        std::move(query));
  }

  void job_detail(std::string cluster_id, std::string job_id,
                  callback<diffplane::job_detail> done) override {
    ask_cluster_by_id<diffplane::job_detail>(std::move(cluster_id), std::move(done),
                                             fetch_job_atom::value, std::move(job_id));
  }

  void live(callback<bool> done) override {
    run([this, done](bridge_actor* self) {
      self->request(node_, std::chrono::seconds{5}, live_atom::value)
          .then([done](done_atom) { done(outcome<bool>::success(true)); },
                [done](caf::error& err) {
                  done(outcome<bool>::failure(domain_error_of(err)));
                });
    });
  }

  void create_job(const cluster_ref& cluster, create_job_request request,
                  callback<std::string> done) override {
    ask_cluster<std::string>(cluster, request_timeout, std::move(done),
                             std::move(request));
  }

  void request_jobs(const cluster_ref& cluster, jobs_request request,
                    callback<std::vector<dispatched_job>> done) override {
    auto timeout = std::chrono::milliseconds{request.ttl_ms} + long_poll_margin;
    ask_cluster<std::vector<dispatched_job>>(cluster, timeout, std::move(done),
                                             std::move(request));
  }

  void post_result(const cluster_ref& cluster, job_result_post post,
                   callback<bool> done) override {
    ask_cluster<bool>(cluster, request_timeout, std::move(done), std::move(post));
  }

  void job_statuses(const cluster_ref& cluster, status_request request,
                    callback<std::vector<job_status_row>> done) override {
    auto timeout = std::chrono::milliseconds{request.ttl_ms} + long_poll_margin;
    ask_cluster<std::vector<job_status_row>>(cluster, timeout, std::move(done),
                                             std::move(request));
  }

  void posted_results(const cluster_ref& cluster, status_request request,
                      callback<std::vector<job_status_row>> done) override {
    auto timeout = std::chrono::milliseconds{request.ttl_ms} + long_poll_margin;
    ask_cluster<std::vector<job_status_row>>(
        cluster, timeout, std::move(done),
        std::make_tuple(posted_result_atom::value, std::move(request)));
  }

  void post_client_events(const cluster_ref& cluster, client_events_post post,
                          callback<bool> done) override {
    run([this, cluster, post = std::move(post), done](bridge_actor* self) {
      self->request(actor_of(cluster), request_timeout, post)
          .then([done](done_atom) { done(outcome<bool>::success(true)); },
                [this, cluster, done](caf::error& err) {
                  failed(cluster, err);
                  done(outcome<bool>::failure(domain_error_of(err)));
                });
    });
  }

  void machine_gone(const cluster_ref& cluster, std::string machine_id) override {
    caf::anon_send(actor_of(cluster), machine_inactive_atom::value,
                   std::move(machine_id));
  }

  void machine_alive(const cluster_ref& cluster, std::string machine_id) override {
    caf::anon_send(actor_of(cluster), machine_alive_atom::value, std::move(machine_id));
  }

  void inform_resources(const cluster_ref& cluster, resource_inform_request request,
                        callback<std::vector<inform_result>> done) override {
    ask_cluster<std::vector<inform_result>>(cluster, request_timeout, std::move(done),
                                            std::move(request));
  }

  void query_resources(const cluster_ref& cluster, resource_query query,
                       callback<resource_page> done) override {
    ask_cluster<resource_page>(cluster, request_timeout, std::move(done),
                               std::move(query));
  }

  void resource_events(const cluster_ref& cluster, resource_events_request request,
                       callback<resource_events_page> done) override {
    auto timeout = std::chrono::milliseconds{request.ttl_ms} + long_poll_margin;
    ask_cluster<resource_events_page>(cluster, timeout, std::move(done),
                                      std::move(request));
  }

  void count_resources(const cluster_ref& cluster, resource_counts_query query,
                       callback<std::vector<resource_count>> done) override {
    ask_cluster<std::vector<resource_count>>(cluster, request_timeout, std::move(done),
                                             std::move(query));
  }

  void resource_kind(const cluster_ref& cluster, resource_kind_request request,
                     callback<resource_kind_record> done) override {
    ask_cluster<resource_kind_record>(cluster, request_timeout, std::move(done),
                                      std::move(request));
  }

  void resource_namespace(const cluster_ref& cluster, resource_namespace_request request,
                          callback<resource_namespace_record> done) override {
    ask_cluster<resource_namespace_record>(cluster, request_timeout, std::move(done),
                                           std::move(request));
  }

  void resource_command(const cluster_ref& cluster, diffplane::resource_command command,
                        callback<resource_command_result> done) override {
    ask_cluster<resource_command_result>(cluster, request_timeout, std::move(done),
                                         std::move(command));
  }

  void release_long_polls() override { caf::anon_send(node_, release_atom::value); }

  void begin_batch() override {
    if (batching.depth == 0)
      batching.owner = this;
    if (batching.owner == this)
      ++batching.depth;
  }

  void end_batch() override {
    if (batching.owner != this || --batching.depth > 0)
      return;
    batching.owner = nullptr;
    send_batch(std::exchange(batching.tasks, {}));
  }

private:
  /// A batch this long goes to the actors at once and the next one starts: the first
  /// request of a long turn does not wait for all the others to be read.
  static constexpr std::size_t max_batch_tasks = 16;

  /// Sends the gathered `tasks` as one message.
  void send_batch(std::vector<task_function> tasks) {
    if (tasks.empty())
      return;
    if (tasks.size() == 1)
      return send_task(std::move(tasks.front()));
    // One message for the batch; a task that throws does not cost the others theirs.
    send_task([tasks = std::move(tasks)](bridge_actor* self) {
      for (const auto& task : tasks) {
        try {
          task(self);
        } catch (const std::exception& e) {
          spdlog::error("event=bridge_task_failed reason=\"{}\"", e.what());
        }
      }
    });
  }

  /// Runs `task` in a bridge actor: at once when this thread runs one of this bridge's
  /// (it is in that actor's context), gathered into the batch this thread makes, or
  /// else as a message to the next bridge actor.
  template <class F> void run(F&& task) {
    if (running.owner == this && running.self != nullptr) {
      auto* self = running.self;
      try {
        task(self);
      } catch (const std::exception& e) {
        spdlog::error("event=bridge_task_failed reason=\"{}\"", e.what());
      }
      schedule_deadline_check(self);
      return;
    }
    if (batching.owner == this && batching.depth > 0) {
      batching.tasks.emplace_back(std::forward<F>(task));
      if (batching.tasks.size() >= max_batch_tasks)
        send_batch(std::exchange(batching.tasks, {}));
      return;
    }
    send_task(task_function{std::forward<F>(task)});
  }

  void send_task(task_function task) {
    auto index = next_.fetch_add(1, std::memory_order_relaxed) % workers_.size();
    caf::anon_send(workers_[index], bridge_task{std::move(task), this});
  }

  template <class T, class Handle, class Timeout, class... Ts>
  void ask(Handle handle, Timeout timeout, callback<T> done, Ts... xs) {
    run([handle, timeout, done, xs...](bridge_actor* self) {
      self->request(handle, timeout, xs...)
          .then([done](T& value) { done(outcome<T>::success(std::move(value))); },
                [done](caf::error& err) {
                  done(outcome<T>::failure(domain_error_of(err)));
                });
    });
  }

  /// What a hot-path request keeps until it is answered, shared by its handlers: the
  /// request, its callback and its cluster are not copied once for each of them (they
  /// were three copies of a create's arguments and four of its callback).
  template <class T, class Message> struct open_request final : held_request {
    open_request(caf_actor_bridge* bridge, cluster_ref cluster, callback<T> done,
                 Message message)
        : bridge(bridge), cluster(std::move(cluster)), done(std::move(done)),
          message(std::move(message)) {}

    void holder_down() override {
      bridge->find_again(std::static_pointer_cast<open_request>(shared_from_this()),
                         holder_died(), true);
    }

    caf_actor_bridge* bridge;
    cluster_ref cluster;
    callback<T> done;
    Message message;
    /// The bridge actor that sends it, and its deadline there (set once it is open).
    bridge_actor* self = nullptr;
    std::uint64_t id = 0;
    /// How often the cluster was found again for it.
    int finds = 0;
    /// Until when the cluster, found starting, is asked for again.
    std::chrono::steady_clock::time_point restart_wait_ends{};
  };

  template <class T, class Message>
  using request_ptr = std::shared_ptr<open_request<T, Message>>;

  /// The hot path (creates, polls, results, status waits): timed out by the bridge
  /// actor's own deadlines rather than CAF's clock thread (see request_deadlines).
  template <class T, class Timeout, class Message>
  void ask_cluster(const cluster_ref& cluster, Timeout timeout, callback<T> done,
                   Message message) {
    auto request = std::make_shared<open_request<T, Message>>(
        this, cluster, std::move(done), std::move(message));
    run([this, timeout, request = std::move(request)](bridge_actor* self) {
      request->self = self;
      request->id = self->state.deadlines.open(
          std::chrono::steady_clock::now() + timeout, [request] {
            request->self->state.held.release(holder_of(request->cluster), request->id);
            request->done(
                outcome<T>::failure(domain_error_of(caf::sec::request_timeout)));
          });
      send_to_cluster(request);
    });
  }

  /// Ends an open request; false if it was answered or expired already.
  template <class T, class Message>
  static bool close(const request_ptr<T, Message>& request) {
    auto& st = request->self->state;
    if (!st.deadlines.close(request->id))
      return false;
    st.held.release(holder_of(request->cluster), request->id);
    return true;
  }

  template <class T, class Message>
  static void fail(const request_ptr<T, Message>& request, const caf::error& err) {
    if (close(request))
      request->done(outcome<T>::failure(domain_error_of(err)));
  }

  /// Sends an open hot-path request to its cluster's actor, which holds it until it
  /// answers: the bridge actor monitors each cluster actor once, so that the death of
  /// one finds its requests again (see held_requests) at the cost of two map updates a
  /// request and no message.
  template <class T, class Message>
  void send_to_cluster(request_ptr<T, Message> request) {
    auto* self = request->self;
    auto holder = holder_of(request->cluster);
    if (self->state.held.hold(holder, request->id, request))
      self->monitor(actor_of(request->cluster));
    request_to(self, actor_of(request->cluster), request->message)
        .then(
            [this, holder, request](T& value) {
              running_scope scope{this, request->self};
              // Sent on to another actor after the down of this one (its answer was on
              // the way): the other one's answer is the one dropped.
              if (holder != holder_of(request->cluster))
                request->self->state.held.release(holder, request->id);
              if (close(request))
                answer_in_turn(request->self, [&] {
                  request->done(outcome<T>::success(std::move(value)));
                });
            },
            [this, holder, request](caf::error& err) {
              // Not held by it any more: its down found the cluster again already.
              if (!request->self->state.held.release(holder, request->id) ||
                  !request->self->state.deadlines.is_open(request->id))
                return;
              running_scope scope{this, request->self};
              // Gone (never saw the request: restarted, or stopped as its lease went)
              // or moving (refused it): found again.
              if (err == caf::sec::request_receiver_down)
                find_again(request, err, true);
              else if (code_of(err) == error_code::moved)
                find_again(request, err, false);
              else
                fail(request, err);
            });
  }

  /// A request its cluster actor will not answer (gone, moving away, or died holding
  /// it) goes to whatever serves the cluster now: the secret is resolved again, and
  /// `err` answered if it cannot be (no secret, or found too often already). A cluster
  /// whose actor is gone may be `restarting`: it is waited for (restart_wait); one
  /// moving away is served elsewhere or not, at once.
  template <class T, class Message>
  void find_again(request_ptr<T, Message> request, const caf::error& err,
                  bool restarting) {
    if (!request->self->state.deadlines.is_open(request->id))
      return;
    running_scope scope{this, request->self};
    forget(request->cluster);
    if (request->cluster.key.empty() || request->finds >= max_finds)
      return fail(request, err);
    ++request->finds;
    using duration = std::chrono::steady_clock::duration;
    request->restart_wait_ends = std::chrono::steady_clock::now() +
                                 (restarting ? duration{restart_wait} : duration::zero());
    resolve_again(request);
  }

  /// Asks the node for the cluster of the request's secret; one starting (restarted
  /// after a crash) is asked for again after a pause, until restart_wait ends.
  template <class T, class Message> void resolve_again(request_ptr<T, Message> request) {
    auto* self = request->self;
    self->request(node_, request_timeout, authenticate_atom::value, request->cluster.key)
        .then(
            [this, request](std::string&, cluster_actor& actor) {
              if (!request->self->state.deadlines.is_open(request->id))
                return;
              running_scope scope{this, request->self};
              // The node has not seen the old actor's down yet.
              if (caf::actor_cast<caf::actor_control_block*>(actor) ==
                  holder_of(request->cluster))
                return retry_or_fail(request, holder_died());
              cluster_ref ref{std::make_shared<const cluster_actor>(std::move(actor)),
                              request->cluster.key};
              {
                std::unique_lock lock{cache_mutex_};
                cache_.insert_or_assign(ref.key, ref);
              }
              request->cluster = std::move(ref);
              send_to_cluster(request);
            },
            [this, request](caf::error& err) {
              if (!request->self->state.deadlines.is_open(request->id))
                return;
              running_scope scope{this, request->self};
              // The node's own `unavailable` (starting, moving); not a node gone.
              if (err.category() == error_category &&
                  code_of(err) == error_code::unavailable)
                return retry_or_fail(request, err);
              fail(request, err);
            });
  }

  /// The cluster is not served yet: asked for again after a pause, or `err` answered
  /// once restart_wait is over.
  template <class T, class Message>
  void retry_or_fail(request_ptr<T, Message> request, const caf::error& err) {
    if (std::chrono::steady_clock::now() >= request->restart_wait_ends)
      return fail(request, err);
    auto* self = request->self;
    self->delayed_send(
        self, restart_retry_pause,
        bridge_task{[this, request](bridge_actor*) {
                      if (request->self->state.deadlines.is_open(request->id))
                        resolve_again(request);
                    },
                    this});
  }

  /// Management requests name the cluster by id: look its actor up, then ask it.
  template <class T, class... Ts>
  void ask_cluster_by_id(std::string cluster_id, callback<T> done, Ts... xs) {
    run([this, cluster_id = std::move(cluster_id), done, xs...](bridge_actor* self) {
      self->request(node_, request_timeout, lookup_atom::value, cluster_id)
          .then(
              [self, done, xs...](cluster_actor& cluster) {
                self->request(cluster, request_timeout, xs...)
                    .then(
                        [done](T& value) { done(outcome<T>::success(std::move(value))); },
                        [done](caf::error& err) {
                          done(outcome<T>::failure(domain_error_of(err)));
                        });
              },
              [done](caf::error& err) {
                done(outcome<T>::failure(domain_error_of(err)));
              });
    });
  }

  /// A cluster actor that is gone (restarted) must be looked up again next time.
  void failed(const cluster_ref& cluster, const caf::error& err) {
    if (err == caf::sec::request_receiver_down)
      forget(cluster);
  }

  /// Drops the cached secrets that lead to the actor of `cluster`.
  void forget(const cluster_ref& cluster) {
    auto holder = holder_of(cluster);
    std::unique_lock lock{cache_mutex_};
    std::erase_if(cache_,
                  [&](const auto& entry) { return holder_of(entry.second) == holder; });
  }

  caf::actor_system& system_;
  node_actor node_;
  std::vector<caf::actor> workers_;
  std::atomic<std::size_t> next_{0};
  std::shared_mutex cache_mutex_;
  std::unordered_map<std::string, cluster_ref> cache_;
};

} // namespace

std::unique_ptr<actor_bridge>
make_actor_bridge(caf::actor_system& system, node_actor node, std::size_t bridge_actors) {
  return std::make_unique<caf_actor_bridge>(system, std::move(node), bridge_actors);
}

} // namespace diffplane::gateway
