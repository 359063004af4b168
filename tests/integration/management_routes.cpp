#define CAF_SUITE management_routes

#include "http_test_helpers.hpp"

#include <caf/test/unit_test.hpp>

using namespace diffplane::testing;

namespace {

struct fixture : server_fixture {
  fixture() : server_fixture({"--body-limit", "4096"}) {}
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(management_routes_tests, fixture)

CAF_TEST(a cluster created without a body is listed with its secret) {
  auto created = manage("POST", "/clusters");
  CAF_CHECK_EQUAL(created.status, 204u);
  auto listed = manage("GET", "/clusters");
  CAF_REQUIRE_EQUAL(listed.status, 200u);
  auto clusters = parse_json(listed.body);
  CAF_REQUIRE_EQUAL(clusters.size(), 1u);
  auto cluster = clusters[0];
  CAF_CHECK(cluster["id"].is_string());
  CAF_CHECK_EQUAL(cluster["apiSecret"].get<std::string>().rfind("sk_", 0), 0u);
  CAF_CHECK(cluster["description"].is_null());
  auto created_at = cluster["createdAt"].get<std::string>();
  CAF_CHECK_EQUAL(created_at.size(), 24u);
  CAF_CHECK_EQUAL(created_at.back(), 'Z');
}

CAF_TEST(a cluster created with a description keeps it) {
  CAF_CHECK_EQUAL(manage("POST", "/clusters", R"({"description":"billing"})").status,
                  204u);
  CAF_CHECK_EQUAL(cluster_with("billing")["description"].get<std::string>(), "billing");
}

CAF_TEST(management routes need the management secret) {
  auto missing = call("GET", "/clusters", "");
  CAF_CHECK_EQUAL(missing.status, 401u);
  CAF_CHECK_EQUAL(json_field(missing.body, "error"), "unauthorized");
  CAF_CHECK_EQUAL(
      call("GET", "/clusters", "sk_management_wrong_wrong_wrong_wrong").status, 401u);
  CAF_CHECK_EQUAL(call("POST", "/clusters", test_management_secret + "x").status, 401u);
  // An API secret is not a management secret.
  auto api_secret = create_cluster("tenant");
  CAF_CHECK_EQUAL(call("GET", "/clusters", api_secret).status, 401u);
}

CAF_TEST(bad bodies are answered 400 naming the field) {
  auto not_json = manage("POST", "/clusters", "{nope");
  CAF_CHECK_EQUAL(not_json.status, 400u);
  CAF_CHECK_EQUAL(json_field(not_json.body, "field"), "body");
  auto wrong_type = manage("POST", "/clusters", R"({"description":42})");
  CAF_CHECK_EQUAL(wrong_type.status, 400u);
  CAF_CHECK_EQUAL(json_field(wrong_type.body, "field"), "description");
}

CAF_TEST(cluster details start empty and unknown clusters are 404) {
  create_cluster("details");
  auto id = cluster_with("details")["id"].get<std::string>();
  auto reply = manage("GET", "/clusters/" + id);
  CAF_REQUIRE_EQUAL(reply.status, 200u);
  auto details = parse_json(reply.body);
  CAF_CHECK_EQUAL(details["id"].get<std::string>(), id);
  CAF_CHECK(details["apiSecret"].is_string());
  CAF_CHECK(details["createdAt"].is_string());
  for (auto list : {"machines", "jobs", "definitions", "deployments"})
    CAF_CHECK(details[list].is_array() && details[list].empty());
  auto unknown = manage("GET", "/clusters/does-not-exist");
  CAF_CHECK_EQUAL(unknown.status, 404u);
  CAF_CHECK_EQUAL(json_field(unknown.body, "error"), "not_found");
}

CAF_TEST(unknown routes are 404 and wrong methods 405) {
  auto unknown = manage("GET", "/nope");
  CAF_CHECK_EQUAL(unknown.status, 404u);
  CAF_CHECK(parse_json(unknown.body)["message"].is_string());
  auto wrong = manage("DELETE", "/clusters");
  CAF_CHECK_EQUAL(wrong.status, 405u);
  bool allow = false;
  for (const auto& [name, value] : wrong.headers)
    allow = allow || (name == "Allow" && value.find("GET") != std::string::npos);
  CAF_CHECK(allow);
}

CAF_TEST(bodies over the limit are 413) {
  auto reply =
      manage("POST", "/clusters", R"({"description":")" + std::string(8000, 'x') + "\"}");
  CAF_CHECK_EQUAL(reply.status, 413u);
  CAF_CHECK_EQUAL(json_field(reply.body, "error"), "payload_too_large");
  // The server is fine afterwards.
  CAF_CHECK_EQUAL(manage("GET", "/clusters").status, 200u);
}

CAF_TEST(live and contract answer without a secret) {
  auto live = call("GET", "/live", "");
  CAF_CHECK_EQUAL(live.status, 200u);
  CAF_CHECK_EQUAL(json_field(live.body, "status"), "ok");
  auto contract = call("GET", "/contract", "");
  CAF_CHECK_EQUAL(contract.status, 200u);
  CAF_CHECK(!parse_json(contract.body)["contract"].get<std::string>().empty());
}

CAF_TEST(features without a provider answer 501) {
  create_cluster("features");
  auto id = cluster_with("features")["id"].get<std::string>();
  auto reply = manage("POST", "/clusters/" + id + "/service/s/deployments");
  CAF_CHECK_EQUAL(reply.status, 501u);
  CAF_CHECK(parse_json(reply.body)["message"].get<std::string>().find("not configured") !=
            std::string::npos);
  CAF_CHECK_EQUAL(call("GET", "/packages/npm/x", "").status, 501u);
}

CAF_TEST_FIXTURE_SCOPE_END()
