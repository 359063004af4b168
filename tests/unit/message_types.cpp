#define CAF_SUITE message_types

#include "actor_fixture.hpp"

#include "persistence/errors.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

using namespace diffplane;

namespace {

struct fixture : testing::actor_fixture {
  template <class T> bool is_announced() {
    if constexpr (std::is_void_v<T> || caf::is_atom_constant<T>::value)
      return true; // no payload, or travels as a builtin atom_value
    else
      return caf::type_nr<T>::value != 0 || sys.types().make_value(typeid(T)) != nullptr;
  }

  template <class T> std::string round_trip(T value) {
    std::vector<char> buffer;
    caf::binary_serializer sink{sys, buffer};
    if (auto err = sink(value))
      return "serialize failed: " + caf::to_string(err);
    T copy;
    caf::binary_deserializer source{sys, buffer};
    if (auto err = source(copy))
      return "deserialize failed: " + caf::to_string(err);
    if (caf::deep_to_string(copy) != caf::deep_to_string(value))
      return "differs: " + caf::deep_to_string(copy) + " vs " +
             caf::deep_to_string(value);
    return "ok";
  }

  template <class... Is, class... Os>
  void check_signature(
      caf::typed_mpi<caf::detail::type_list<Is...>, caf::output_tuple<Os...>>*,
      const char* interface) {
    auto check = [&](bool announced, const char* type) {
      if (!announced)
        CAF_FAIL(interface << " uses " << type << ", which is not announced");
    };
    (check(is_announced<Is>(), typeid(Is).name()), ...);
    (check(is_announced<Os>(), typeid(Os).name()), ...);
  }

  template <class Handle> void check_interface(const char* interface) {
    [&]<class... Sigs>(caf::detail::type_list<Sigs...>*) {
      (check_signature(static_cast<Sigs*>(nullptr), interface), ...);
    }(static_cast<typename Handle::signatures*>(nullptr));
  }
};

job_record sample_job() {
  job_record j;
  j.cluster_id = "c1";
  j.id = "j1";
  j.service = "svc";
  j.target_fn = "fn";
  j.target_args = "kaFh";
  j.cache_key = "k";
  j.max_attempts = 4;
  j.timeout_seconds = 30;
  j.predictive_retries_on_rejection = true;
  j.background = true;
  j.created_at = 1700000000000;
  j.status = job_status::success;
  j.result_type = result_kind::rejection;
  j.result = "gqFh";
  j.attempts_used = 2;
  j.executing_machine_id = "m1";
  j.function_execution_time_ms = 12;
  j.last_dispatched_at = 1700000000001;
  j.resulted_at = 1700000000002;
  j.revision = 5;
  return j;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(message_types_tests, fixture)

CAF_TEST(every registered type survives a serialization round trip) {
#define DIFFPLANE_CHECK_ROUND_TRIP(...)                                                  \
  CAF_CHECK(is_announced<__VA_ARGS__>());                                                \
  CAF_CHECK_EQUAL(round_trip(__VA_ARGS__{}), "ok");
  DIFFPLANE_MESSAGE_TYPES(DIFFPLANE_CHECK_ROUND_TRIP)
#undef DIFFPLANE_CHECK_ROUND_TRIP
}

CAF_TEST(records with every field set survive the round trip) {
  CAF_CHECK_EQUAL(round_trip(sample_job()), "ok");
  cluster_snapshot snapshot;
  snapshot.live_jobs = {sample_job(), sample_job()};
  snapshot.services.push_back(service_record{"c1", "svc", {"a", "b"}, 7});
  snapshot.machines.push_back(machine_record{"c1", "m1", "svc", "10.0.0.1", "d1", 8});
  snapshot.cache_entries.push_back(cache_entry_record{"svc", "fn", "k", "j1", 9});
  CAF_CHECK_EQUAL(round_trip(snapshot), "ok");
  jobs_request poll{"svc", 50, 5000, "m1", "d1", "127.0.0.1", true, {"f", "g"}};
  CAF_CHECK_EQUAL(round_trip(poll), "ok");
}

CAF_TEST(every type in every actor interface is announced) {
  check_interface<persistence_actor>("persistence_actor");
  check_interface<job_actor>("job_actor");
  check_interface<pool_actor>("pool_actor");
  check_interface<cluster_actor>("cluster_actor");
  check_interface<node_actor>("node_actor");
}

CAF_TEST(errors of our category render with their message) {
  auto err = make_error(error_code::not_found, "job x not found");
  CAF_CHECK_EQUAL(code_of(err), error_code::not_found);
  CAF_CHECK_EQUAL(message_of(err), "job x not found");
  CAF_CHECK_EQUAL(sys.render(err), "diffplane::not_found: job x not found");
}

CAF_TEST_FIXTURE_SCOPE_END()
