#define CAF_SUITE resource_kind_settings

#include "actors/resource_kind_settings.hpp"

#include <caf/test/unit_test.hpp>

#include <limits>

using namespace diffplane;
using namespace diffplane::resources;

// The rules of a kind's settings, which the HTTP gateway and the native listener both
// apply (PUT /resources-kinds/:kind and the configure_kind frame).
namespace {

setting_value integer(std::int64_t value) {
  return {true, true, value};
}

/// The field the check names ("" when the settings pass).
std::string refused_field(const kind_settings_input& input) {
  return check_kind_settings("user", input).field;
}

} // namespace

CAF_TEST(settings within their bounds pass and absent ones are the default) {
  kind_settings_input input;
  input.backoff_base_ms = integer(500);
  input.backoff_cap_ms = integer(86'400'000);
  input.inform_interval_seconds = integer(1);
  auto checked = check_kind_settings("user", input);
  CAF_REQUIRE_EQUAL(checked.field, "");
  CAF_CHECK_EQUAL(checked.settings.kind, "user");
  CAF_CHECK_EQUAL(checked.settings.backoff_base_ms, 500);
  CAF_CHECK_EQUAL(checked.settings.backoff_cap_ms, 86'400'000);
  CAF_CHECK_EQUAL(checked.settings.timeout_seconds, 0);
  CAF_CHECK_EQUAL(checked.settings.inform_interval_seconds, 1);
}

CAF_TEST(each setting out of bounds or not an integer is named) {
  kind_settings_input input;
  input.timeout_seconds = integer(0);
  auto checked = check_kind_settings("user", input);
  CAF_CHECK_EQUAL(checked.field, "timeoutSeconds");
  CAF_CHECK_EQUAL(checked.message,
                  "timeoutSeconds must be an integer from 1 to 86400, or null");
  input = {};
  input.backoff_base_ms = integer(86'400'001);
  CAF_CHECK(refused_field(input) == "backoffBaseMs");
  input = {};
  input.backoff_cap_ms = integer(std::numeric_limits<std::int64_t>::max());
  CAF_CHECK(refused_field(input) == "backoffCapMs");
  input = {};
  input.inform_interval_seconds = {true, false, 0}; // a string, a float, a bool
  checked = check_kind_settings("user", input);
  CAF_CHECK_EQUAL(checked.field, "informIntervalSeconds");
  CAF_CHECK_EQUAL(checked.message,
                  "informIntervalSeconds must be an integer from 1 to 86400, or null");
  // The first broken rule in the body's order is the one named.
  input.backoff_base_ms = integer(-1);
  CAF_CHECK(refused_field(input) == "backoffBaseMs");
}

CAF_TEST(a cap below the base is refused naming the cap) {
  kind_settings_input input;
  input.backoff_base_ms = integer(2000);
  input.backoff_cap_ms = integer(1000);
  auto checked = check_kind_settings("user", input);
  CAF_CHECK_EQUAL(checked.field, "backoffCapMs");
  CAF_CHECK_EQUAL(checked.message, "backoffCapMs must not be below backoffBaseMs");
  // Against the default base (1 s) the cap is not compared: the default may change.
  input.backoff_base_ms = {};
  CAF_CHECK(refused_field(input) == "");
}

CAF_TEST(kind names follow the service name rule) {
  CAF_CHECK(resource_name_problem("user_2-x", "kind").empty());
  CAF_CHECK(resource_name_problem(std::string(63, 'a'), "kind").empty());
  auto problem = resource_name_problem("", "kind");
  CAF_CHECK_EQUAL(problem, "kind must be 1 to 63 letters, digits, '_' or '-', starting "
                           "with a letter or digit");
  CAF_CHECK(!resource_name_problem(std::string(64, 'a'), "kind").empty());
  CAF_CHECK(!resource_name_problem("-user", "kind").empty());
  CAF_CHECK(!resource_name_problem("us er", "kind").empty());
  CAF_CHECK(!resource_name_problem("a.b", "kind").empty());
}
