#include "actors/scheduler.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/coordinator.hpp>

#include <mutex>
#include <unordered_set>

namespace diffplane {
namespace {

/// Forwards everything to CAF's own clock (whose thread dispatches it), except the
/// "actor terminated" cancellation of actors that never set a timeout: only timeouts are
/// registered per actor, so for those actors the cancellation has nothing to do.
/// (Delayed messages are not per actor and are not cancelled at termination anyway.)
class timeout_aware_clock final : public caf::detail::thread_safe_actor_clock {
public:
  explicit timeout_aware_clock(caf::detail::thread_safe_actor_clock& target)
      : target_(target) {}

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type,
                            uint64_t id) override {
    remember(self);
    target_.set_ordinary_timeout(t, self, type, id);
  }

  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override {
    remember(self);
    target_.set_request_timeout(t, self, id);
  }

  void set_multi_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type,
                         uint64_t id) override {
    remember(self);
    target_.set_multi_timeout(t, self, type, id);
  }

  void cancel_ordinary_timeout(caf::abstract_actor* self, caf::atom_value type) override {
    target_.cancel_ordinary_timeout(self, type);
  }

  void cancel_request_timeout(caf::abstract_actor* self, caf::message_id id) override {
    target_.cancel_request_timeout(self, id);
  }

  void cancel_timeouts(caf::abstract_actor* self) override {
    if (forget(self))
      target_.cancel_timeouts(self);
  }

  void schedule_message(time_point t, caf::strong_actor_ptr receiver,
                        caf::mailbox_element_ptr content) override {
    target_.schedule_message(t, std::move(receiver), std::move(content));
  }

  void schedule_message(time_point t, caf::group target, caf::strong_actor_ptr sender,
                        caf::message content) override {
    target_.schedule_message(t, std::move(target), std::move(sender), std::move(content));
  }

  void cancel_all() override { target_.cancel_all(); }

private:
  void remember(caf::abstract_actor* self) {
    std::lock_guard lock{mutex_};
    with_timeouts_.insert(self->id());
  }

  /// Whether the actor ever set a timeout; it is forgotten either way.
  bool forget(caf::abstract_actor* self) {
    std::lock_guard lock{mutex_};
    return with_timeouts_.erase(self->id()) > 0;
  }

  caf::detail::thread_safe_actor_clock& target_;
  std::mutex mutex_;
  /// Actors that set a timeout and have not terminated yet.
  std::unordered_set<caf::actor_id> with_timeouts_;
};

using work_stealing = caf::scheduler::coordinator<caf::policy::work_stealing>;

class work_stealing_coordinator final : public work_stealing {
public:
  explicit work_stealing_coordinator(caf::actor_system& system)
      : work_stealing(system), clock_(work_stealing::clock()) {}

  caf::detail::thread_safe_actor_clock& clock() noexcept override { return clock_; }

private:
  timeout_aware_clock clock_;
};

} // namespace

void use_work_stealing_scheduler(caf::actor_system_config& config) {
  config.module_factories.push_back(
      [](caf::actor_system& system) -> caf::actor_system::module* {
        return new work_stealing_coordinator(system);
      });
}

} // namespace diffplane
