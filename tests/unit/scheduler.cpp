#define CAF_SUITE scheduler

#include "actors/scheduler.hpp"

#include <caf/all.hpp>
#include <caf/test/unit_test.hpp>

#include <thread>

using namespace std::chrono_literals;

// The scheduler itself is under test here, so these suites run a real actor system with
// it rather than CAF's deterministic test coordinator.

namespace {

struct scheduler_config : caf::actor_system_config {
  scheduler_config() {
    diffplane::use_work_stealing_scheduler(*this);
    set("scheduler.max-threads", std::size_t{2});
    set("logger.verbosity", caf::atom("quiet"));
  }
};

struct fixture {
  scheduler_config config;
  caf::actor_system system{config};
  caf::scoped_actor self{system};
};

using ping_atom = caf::atom_constant<caf::atom("ping")>;

caf::behavior silent(caf::event_based_actor*) {
  return {[](ping_atom) {
    // never answers: the request's timeout must
    return caf::skip();
  }};
}

/// Whether the actor behind `weak` is gone for good: no strong reference anywhere, the
/// clock's included, within five seconds.
bool released(const caf::weak_actor_ptr& weak) {
  for (int i = 0; i < 500; ++i) {
    if (!caf::actor_cast<caf::strong_actor_ptr>(weak))
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(scheduler_tests, fixture)

CAF_TEST(timeouts and delayed messages still reach their actors) {
  auto quiet = system.spawn(silent);
  bool timed_out = false;
  self->request(quiet, 50ms, ping_atom::value)
      .receive([](ping_atom) { CAF_FAIL("the silent actor answered"); },
               [&](caf::error& err) { timed_out = err == caf::sec::request_timeout; });
  CAF_CHECK(timed_out);

  self->delayed_send(self, 20ms, ping_atom::value);
  bool delivered = false;
  self->receive([&](ping_atom) { delivered = true; },
                caf::after(5s) >> [] { CAF_FAIL("the delayed message never came"); });
  CAF_CHECK(delivered);

  auto waiter = system.spawn([](caf::event_based_actor* waiting) -> caf::behavior {
    return {
        [](ping_atom) {},
        caf::after(20ms) >> [waiting] { waiting->quit(); },
    };
  });
  self->wait_for(waiter);
  caf::anon_send_exit(quiet, caf::exit_reason::user_shutdown);
}

CAF_TEST(an actor that ends with a timeout pending is released by the clock) {
  // A receive timeout an hour away: unless the clock drops it when the actor ends, the
  // clock holds a strong reference to the actor for that hour.
  caf::weak_actor_ptr weak;
  {
    auto waiting = system.spawn([](caf::event_based_actor*) -> caf::behavior {
      return {
          [](ping_atom) {},
          caf::after(std::chrono::seconds{3600}) >> [] {},
      };
    });
    weak = caf::actor_cast<caf::weak_actor_ptr>(waiting);
    self->send(waiting, ping_atom::value); // the timeout is set when the message is done
    self->send_exit(waiting, caf::exit_reason::user_shutdown);
    self->wait_for(waiting);
  }
  CAF_CHECK(released(weak));
}

CAF_TEST(an actor that ends without ever setting a timeout is released) {
  caf::weak_actor_ptr weak;
  {
    auto plain = system.spawn([](caf::event_based_actor* actor) -> caf::behavior {
      return {[actor](ping_atom) { actor->quit(); }};
    });
    weak = caf::actor_cast<caf::weak_actor_ptr>(plain);
    self->send(plain, ping_atom::value);
    self->wait_for(plain);
  }
  CAF_CHECK(released(weak));
}

CAF_TEST_FIXTURE_SCOPE_END()
