#define CAF_SUITE message_types

#include "actor_fixture.hpp"

#include "actors/job_lifecycle.hpp"
#include "persistence/errors.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <type_traits>
#include <utility>

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
    // By value: a field that inspect() skips comes back defaulted and differs.
    if (!(copy == value))
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

/// Converts to a reference to any type, so `T{any_field{}...}` tells how many members
/// the aggregate T has without naming them.
struct any_field {
  template <class T> operator T&() const;
};

template <class T, std::size_t... I>
constexpr bool brace_constructible(std::index_sequence<I...>) {
  return requires {
    T{(void(I), any_field{})...};
  };
}

/// The number of members of the aggregate T.
template <class T, std::size_t N = 0> constexpr std::size_t member_count() {
  if constexpr (!brace_constructible<T>(std::make_index_sequence<N + 1>{}))
    return N;
  else
    return member_count<T, N + 1>();
}

/// An inspector that only counts the fields inspect() hands it.
struct field_counter {
  std::size_t fields = 0;
  template <class... Ts> bool operator()(Ts&&...) {
    fields += sizeof...(Ts);
    return true;
  }
};

/// How many fields inspect() serializes, against how many the struct has: a field
/// missing from inspect() travels as its default and is lost between nodes.
template <class T> std::string inspect_covers_every_member() {
  if constexpr (!std::is_aggregate_v<T>) {
    return "ok"; // containers and actor handles: CAF serializes them itself
  } else {
    T value{};
    field_counter counter;
    inspect(counter, value);
    if (counter.fields == member_count<T>())
      return "ok";
    return "inspect() visits " + std::to_string(counter.fields) + " of " +
           std::to_string(member_count<T>()) + " members";
  }
}

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
  j.id_generated = true;
  j.durable = false;
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

CAF_TEST(inspect visits every member of every registered type) {
#define DIFFPLANE_CHECK_MEMBERS(...)                                                     \
  CAF_CHECK_EQUAL(inspect_covers_every_member<__VA_ARGS__>(), "ok");
  DIFFPLANE_MESSAGE_TYPES(DIFFPLANE_CHECK_MEMBERS)
#undef DIFFPLANE_CHECK_MEMBERS
  // The counting itself: a struct of four members is seen as four.
  CAF_CHECK_EQUAL(member_count<dispatched_job>(), 4u);
  CAF_CHECK_EQUAL(member_count<job_record>(), 22u);
  // Results cross the mesh to their cluster's owner in the shape every node version
  // reads: whether a posted wait takes one travels beside it, in local messages only.
  CAF_CHECK_EQUAL(member_count<job_result_post>(), 8u);
}

CAF_TEST(records with every field set survive the round trip) {
  CAF_CHECK_EQUAL(round_trip(sample_job()), "ok");
  cluster_snapshot snapshot;
  snapshot.services.push_back(service_record{"c1", "svc", {"a", "b"}, 7});
  snapshot.machines.push_back(machine_record{"c1", "m1", "svc", "10.0.0.1", "d1", 8});
  snapshot.cache_entries.push_back(cache_entry_record{"svc", "fn", "k", "j1", 9});
  snapshot.cluster = cluster_record{"c1", "sk_x", "billing", 3, true, true};
  snapshot.live_jobs_before = 11;
  snapshot.load_before = 12;
  CAF_CHECK_EQUAL(round_trip(snapshot), "ok");
  CAF_CHECK_EQUAL(round_trip(live_jobs_page_request{"c1", 5000}), "ok");
  CAF_CHECK_EQUAL(round_trip(live_jobs_page{{sample_job(), sample_job()}, 1000000}),
                  "ok");
  jobs_request poll{"svc", 50, 5000, "m1", "d1", "127.0.0.1", true, {"f", "g"}};
  CAF_CHECK_EQUAL(round_trip(poll), "ok");
  CAF_CHECK_EQUAL(round_trip(create_job_request{"svc", "fn", "YQ==", "k", 60, 3, true, 30,
                                                "exec-1", true, false}),
                  "ok");
  CAF_CHECK_EQUAL(round_trip(job_result_post{"j1", "m1", "d1", "10.0.0.2", "gqFh",
                                             result_kind::rejection, 17, 3}),
                  "ok");
  CAF_CHECK_EQUAL(round_trip(status_request{{"a", "b"}, 7000, true}), "ok");
  CAF_CHECK_EQUAL(round_trip(dispatched_job{"j1", "fn", "kA==", 2}), "ok");
  CAF_CHECK_EQUAL(round_trip(cached_resolution_query{"c1", "svc", "fn", "k", 5}), "ok");
  CAF_CHECK_EQUAL(round_trip(lifecycle::state_of(sample_job())), "ok");
  forward_batch batch{
      "secret",
      "c1",
      {{1, {"svc", "fn", "YQ==", "", 0, 1, false, 30, "e1", true, true}}},
      {{2, poll}},
      {{3, {"j1", "m1", "d1", "10.0.0.2", "gqFh", result_kind::rejection, 17, 3}}},
      {{4, {{"a", "b"}, 7000, true}}}};
  CAF_CHECK_EQUAL(round_trip(batch), "ok");
  forward_answers answers{
      {{1, "j1"}},
      {{2, {{"j1", "fn", "kA==", 2}}}},
      {{3, true}},
      {{4, {job_status_row{"j1", job_status::failure, result_kind::rejection, "r"}}}},
      {{5, make_error(error_code::moved, "handed off")}}};
  CAF_CHECK_EQUAL(round_trip(answers), "ok");
  CAF_CHECK_EQUAL(round_trip(job_finished{job_status_row{"j1", job_status::failure,
                                                         result_kind::rejection, "r"},
                                          "svc", "fn", "k", 12}),
                  "ok");
}

CAF_TEST(every type in every actor interface is announced) {
  check_interface<persistence_actor>("persistence_actor");
  check_interface<job_actor>("job_actor");
  check_interface<pool_actor>("pool_actor");
  check_interface<cluster_actor>("cluster_actor");
  check_interface<node_actor>("node_actor");
  check_interface<mesh_gate_actor>("mesh_gate_actor");
  check_interface<resources_actor>("resources_actor");
  check_interface<resource_host>("resource_host");
}

CAF_TEST(errors of our category render with their message) {
  auto err = make_error(error_code::not_found, "job x not found");
  CAF_CHECK_EQUAL(code_of(err), error_code::not_found);
  CAF_CHECK_EQUAL(message_of(err), "job x not found");
  CAF_CHECK_EQUAL(sys.render(err), "diffplane::not_found: job x not found");
}

CAF_TEST_FIXTURE_SCOPE_END()
