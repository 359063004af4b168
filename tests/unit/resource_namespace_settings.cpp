#define CAF_SUITE resource_namespace_settings

#include "actors/resource_namespace_settings.hpp"

#include <caf/test/unit_test.hpp>

using namespace diffplane;
using namespace diffplane::resources;

// The rules of a namespace's limits, which the HTTP gateway and the native listener both
// apply (PUT /resources-namespaces/:name and the configure_namespace frame).
namespace {

setting_value integer(std::int64_t value) {
  return {true, true, value};
}

} // namespace

CAF_TEST(limits within their bounds pass and absent ones are unlimited or off) {
  namespace_settings_input input;
  input.max_workers = integer(100'000);
  input.expiry_ttl_seconds = integer(1);
  input.deleted_retention_seconds = integer(315'360'000);
  auto checked = check_namespace_settings("crm", input);
  CAF_REQUIRE_EQUAL(checked.field, "");
  CAF_CHECK_EQUAL(checked.settings.name, "crm");
  CAF_CHECK_EQUAL(checked.settings.max_workers, 100'000);
  CAF_CHECK_EQUAL(checked.settings.expiry_ttl_seconds, 1);
  CAF_CHECK_EQUAL(checked.settings.synced_retention_seconds, 0);
  CAF_CHECK_EQUAL(checked.settings.deleted_retention_seconds, 315'360'000);
}

CAF_TEST(each limit out of bounds or not an integer is named with the HTTP message) {
  namespace_settings_input input;
  input.max_workers = integer(0);
  auto checked = check_namespace_settings("crm", input);
  CAF_CHECK_EQUAL(checked.field, "maxWorkers");
  CAF_CHECK_EQUAL(checked.message,
                  "maxWorkers must be an integer from 1 to 100000, or null");
  CAF_CHECK_EQUAL(checked.settings.name, "");
  input = {};
  input.expiry_ttl_seconds = integer(315'360'001);
  checked = check_namespace_settings("crm", input);
  CAF_CHECK_EQUAL(checked.field, "expiryTtlSeconds");
  CAF_CHECK_EQUAL(checked.message,
                  "expiryTtlSeconds must be an integer from 1 to 315360000, or null");
  input = {};
  input.synced_retention_seconds = {true, false, 0}; // a string, say
  checked = check_namespace_settings("crm", input);
  CAF_CHECK_EQUAL(checked.field, "syncedRetentionSeconds");
  input = {};
  input.deleted_retention_seconds = integer(-1);
  checked = check_namespace_settings("crm", input);
  CAF_CHECK_EQUAL(checked.field, "deletedRetentionSeconds");
}

CAF_TEST(the first limit that breaks a rule is the one named) {
  namespace_settings_input input;
  input.max_workers = integer(100'001);
  input.deleted_retention_seconds = integer(0);
  auto checked = check_namespace_settings("crm", input);
  CAF_CHECK_EQUAL(checked.field, "maxWorkers");
}
