#define CAF_SUITE client_event_bodies

#include "gateway/json_codecs.hpp"

#include <caf/test/unit_test.hpp>

#include <string>

using namespace diffplane;
using namespace diffplane::gateway;

namespace {

http_request events_request(const std::string& timestamp) {
  http_request request;
  request.method = http_method::post;
  request.headers.emplace_back("x-machine-id", "m-1");
  request.body =
      R"({"events":[{"type":"functionInvocation","timestamp":)" + timestamp + "}]}";
  return request;
}

/// "field" of a refused body, or the stored epoch milliseconds when it is accepted.
std::string outcome(const std::string& timestamp) {
  try {
    return std::to_string(
        decode_client_events(events_request(timestamp)).events[0].timestamp);
  } catch (const bad_input& e) {
    return e.field;
  }
}

} // namespace

CAF_TEST(event times are read as numbers or dates) {
  CAF_CHECK_EQUAL(outcome("1764000000000"), "1764000000000");
  CAF_CHECK_EQUAL(outcome(R"("2026-11-23T10:00:00.000Z")"), "1795428000000");
  CAF_CHECK_EQUAL(outcome("253402300799999"), "253402300799999");
}

CAF_TEST(times no database can store are refused and never cast) {
  const std::string field = "events[0].timestamp";
  CAF_CHECK_EQUAL(outcome("1e16"), field);
  CAF_CHECK_EQUAL(outcome("1e300"), field);
  CAF_CHECK_EQUAL(outcome("-1e300"), field);
  CAF_CHECK_EQUAL(outcome("-1"), field);
  CAF_CHECK_EQUAL(outcome("253402300800000"), field);
  CAF_CHECK_EQUAL(outcome(R"("10000-01-01T00:00:00Z")"), field);
  CAF_CHECK_EQUAL(outcome(R"("1969-12-31T23:59:59Z")"), field);
  CAF_CHECK_EQUAL(outcome("null"), field);
}
