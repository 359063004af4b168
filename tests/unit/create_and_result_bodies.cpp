#define CAF_SUITE create_and_result_bodies

#include "gateway/json_codecs.hpp"

#include <caf/test/unit_test.hpp>

#include <string>
#include <string_view>

using namespace diffplane;
using namespace diffplane::gateway;

namespace {

/// "field: message" of a refused create body, or "" when it is accepted.
std::string create_refusal(std::string_view body) {
  try {
    decode_create_job(body);
    return "";
  } catch (const bad_input& e) {
    return e.field + ": " + e.what();
  }
}

http_request result_request(std::string body, std::string machine = "m-1",
                            std::string attempt = "") {
  http_request request;
  request.method = http_method::post;
  request.params.emplace_back("jobId", "j-1");
  if (!attempt.empty())
    request.params.emplace_back("attempt", std::move(attempt));
  if (!machine.empty())
    request.headers.emplace_back("x-machine-id", std::move(machine));
  request.headers.emplace_back("x-deployment-id", "d-1");
  request.remote_ip = "10.0.0.7";
  request.body = std::move(body);
  return request;
}

std::string result_refusal(std::string body, std::string machine = "m-1",
                           std::string attempt = "") {
  try {
    decode_job_result(
        result_request(std::move(body), std::move(machine), std::move(attempt)));
    return "";
  } catch (const bad_input& e) {
    return e.field + ": " + e.what();
  }
}

constexpr std::string_view config_prefix =
    R"({"service":"s","targetFn":"f","targetArgs":"a","callConfig":)";

std::string with_config(std::string_view config) {
  return std::string{config_prefix} + std::string{config} + "}";
}

} // namespace

CAF_TEST(a create body without callConfig takes the defaults) {
  auto request =
      decode_create_job(R"({"service":"svc","targetFn":"echo","targetArgs":""})");
  CAF_CHECK_EQUAL(request.service, "svc");
  CAF_CHECK_EQUAL(request.target_fn, "echo");
  CAF_CHECK_EQUAL(request.target_args, "");
  CAF_CHECK_EQUAL(request.retry_count_on_stall, 1);
  CAF_CHECK_EQUAL(request.timeout_seconds, 300);
  CAF_CHECK(!request.predictive_retries_on_rejection);
  CAF_CHECK(!request.background);
  CAF_CHECK(request.execution_id.empty());
  CAF_CHECK(request.cache_key.empty());
  auto null_config = decode_create_job(with_config("null"));
  CAF_CHECK_EQUAL(null_config.timeout_seconds, 300);
}

CAF_TEST(a full create body fills every field) {
  auto request = decode_create_job(
      R"({"unknown":{"deep":[1,{"x":null}]},"service":"svc","targetFn":"echo",)"
      R"("targetArgs":"kaNhcmc=","callConfig":{"retryCountOnStall":2.7,)"
      R"("timeoutSeconds":60,"predictiveRetriesOnRejection":true,"executionId":"e-1",)"
      R"("background":true,"cache":{"key":"k","ttlSeconds":30,"extra":[]},"more":{}}})");
  CAF_CHECK_EQUAL(request.service, "svc");
  CAF_CHECK_EQUAL(request.target_args, "kaNhcmc=");
  CAF_CHECK_EQUAL(request.retry_count_on_stall, 2);
  CAF_CHECK_EQUAL(request.timeout_seconds, 60);
  CAF_CHECK(request.predictive_retries_on_rejection);
  CAF_CHECK_EQUAL(request.execution_id, "e-1");
  CAF_CHECK(request.background);
  CAF_CHECK_EQUAL(request.cache_key, "k");
  CAF_CHECK_EQUAL(request.cache_ttl_seconds, 30);
}

CAF_TEST(a repeated key counts once with its last value) {
  auto request = decode_create_job(
      R"({"service":"first","targetFn":"f","targetArgs":"a","service":"last"})");
  CAF_CHECK_EQUAL(request.service, "last");
}

CAF_TEST(strings and escapes arrive decoded) {
  auto request = decode_create_job(
      R"({"service":"s\u00e9rvice \"q\"","targetFn":"f\/g","targetArgs":"a\nb"})");
  CAF_CHECK_EQUAL(request.service, "s\xc3\xa9rvice \"q\"");
  CAF_CHECK_EQUAL(request.target_fn, "f/g");
  CAF_CHECK_EQUAL(request.target_args, "a\nb");
}

CAF_TEST(bad create bodies name their field and what is wrong) {
  CAF_CHECK_EQUAL(create_refusal("{"), "body: the body is not valid JSON");
  CAF_CHECK_EQUAL(create_refusal(R"({"a":1} x)"), "body: the body is not valid JSON");
  CAF_CHECK_EQUAL(create_refusal("[]"), "body: the body must be a JSON object");
  CAF_CHECK_EQUAL(create_refusal(R"({"targetArgs":"a","service":"s"})"),
                  "targetFn: targetFn is required");
  CAF_CHECK_EQUAL(create_refusal(R"({"targetFn":null,"targetArgs":"a","service":"s"})"),
                  "targetFn: targetFn is required");
  CAF_CHECK_EQUAL(create_refusal(R"({"targetFn":3,"targetArgs":"a","service":"s"})"),
                  "targetFn: targetFn must be a string");
  CAF_CHECK_EQUAL(create_refusal(R"({"targetFn":"","targetArgs":"a","service":"s"})"),
                  "targetFn: targetFn must not be empty");
  CAF_CHECK_EQUAL(create_refusal(R"({"targetFn":"f","service":"s"})"),
                  "targetArgs: targetArgs is required");
  CAF_CHECK_EQUAL(create_refusal(R"({"targetFn":"f","targetArgs":{},"service":"s"})"),
                  "targetArgs: targetArgs must be a string");
  CAF_CHECK_EQUAL(create_refusal(R"({"targetFn":"f","targetArgs":"a"})"),
                  "service: service is required");
  CAF_CHECK_EQUAL(
      create_refusal(R"({"targetFn":"f","targetArgs":"a","service":"s\u0000"})"),
      "service: service must be UTF-8 text without NUL characters");
  CAF_CHECK_EQUAL(create_refusal(R"({"targetFn":")" + std::string(1025, 'f') +
                                 R"(","targetArgs":"a","service":"s"})"),
                  "targetFn: targetFn must be at most 1024 characters");
}

CAF_TEST(bad call configs name their field and what is wrong) {
  const std::string valid =
      R"("retryCountOnStall":1,"timeoutSeconds":10,"predictiveRetriesOnRejection":false)";
  CAF_CHECK_EQUAL(create_refusal(with_config("1")),
                  "callConfig: callConfig must be an object");
  CAF_CHECK_EQUAL(
      create_refusal(
          with_config(R"({"timeoutSeconds":10,"predictiveRetriesOnRejection":false})")),
      "callConfig.retryCountOnStall: callConfig.retryCountOnStall is required");
  CAF_CHECK_EQUAL(
      create_refusal(with_config(R"({"retryCountOnStall":"1","timeoutSeconds":10,)"
                                 R"("predictiveRetriesOnRejection":false})")),
      "callConfig.retryCountOnStall: callConfig.retryCountOnStall must be a "
      "number");
  CAF_CHECK_EQUAL(
      create_refusal(with_config(R"({"retryCountOnStall":1001,"timeoutSeconds":10,)"
                                 R"("predictiveRetriesOnRejection":false})")),
      "callConfig.retryCountOnStall: callConfig.retryCountOnStall must be "
      "between 0 and 1000");
  CAF_CHECK_EQUAL(create_refusal(with_config(
                      R"({"retryCountOnStall":1,"predictiveRetriesOnRejection":false})")),
                  "callConfig.timeoutSeconds: callConfig.timeoutSeconds is required");
  CAF_CHECK_EQUAL(
      create_refusal(with_config(R"({"retryCountOnStall":1,"timeoutSeconds":0,)"
                                 R"("predictiveRetriesOnRejection":false})")),
      "callConfig.timeoutSeconds: callConfig.timeoutSeconds must be between 1 "
      "and 604800");
  CAF_CHECK_EQUAL(
      create_refusal(with_config(R"({"retryCountOnStall":1,"timeoutSeconds":10})")),
      "callConfig.predictiveRetriesOnRejection: "
      "callConfig.predictiveRetriesOnRejection must be a boolean");
  CAF_CHECK_EQUAL(
      create_refusal(with_config(R"({"retryCountOnStall":1,"timeoutSeconds":10,)"
                                 R"("predictiveRetriesOnRejection":1})")),
      "callConfig.predictiveRetriesOnRejection: "
      "callConfig.predictiveRetriesOnRejection must be a boolean");
  CAF_CHECK_EQUAL(create_refusal(with_config("{" + valid + R"(,"executionId":"a/b"})")),
                  "callConfig.executionId: callConfig.executionId must not contain '/'");
  CAF_CHECK_EQUAL(create_refusal(with_config("{" + valid + R"(,"executionId":""})")),
                  "callConfig.executionId: callConfig.executionId must not be empty");
  CAF_CHECK_EQUAL(create_refusal(with_config("{" + valid + R"(,"executionId":null})")),
                  "");
  CAF_CHECK_EQUAL(create_refusal(with_config("{" + valid + R"(,"background":"yes"})")),
                  "callConfig.background: callConfig.background must be a boolean");
  CAF_CHECK_EQUAL(create_refusal(with_config("{" + valid + R"(,"background":null})")),
                  "");
  CAF_CHECK_EQUAL(create_refusal(with_config("{" + valid + R"(,"cache":[]})")),
                  "callConfig.cache: callConfig.cache must be an object");
  CAF_CHECK_EQUAL(create_refusal(with_config("{" + valid + R"(,"cache":{"key":"k"}})")),
                  "callConfig.cache.ttlSeconds: callConfig.cache.ttlSeconds is required");
  CAF_CHECK_EQUAL(
      create_refusal(with_config("{" + valid + R"(,"cache":{"ttlSeconds":1}})")),
      "callConfig.cache.key: callConfig.cache.key is required");
  CAF_CHECK_EQUAL(create_refusal(with_config("{" + valid + R"(,"cache":null})")), "");
}

CAF_TEST(a result body fills the post with the request headers) {
  auto post = decode_job_result(result_request(
      R"({"result":"kaNhcmc=","resultType":"rejection","functionExecutionTime":12.9})"));
  CAF_CHECK_EQUAL(post.job_id, "j-1");
  CAF_CHECK_EQUAL(post.machine_id, "m-1");
  CAF_CHECK_EQUAL(post.deployment_id, "d-1");
  CAF_CHECK_EQUAL(post.ip, "10.0.0.7");
  CAF_CHECK_EQUAL(post.result, "kaNhcmc=");
  CAF_CHECK(post.type == result_kind::rejection);
  CAF_CHECK_EQUAL(post.function_execution_time_ms, 12);
  CAF_CHECK_EQUAL(post.attempt, 1);
  auto bare =
      decode_job_result(result_request(R"({"result":"","resultType":"resolution"})"));
  CAF_CHECK_EQUAL(bare.result, "");
  CAF_CHECK(bare.type == result_kind::resolution);
  CAF_CHECK_EQUAL(bare.function_execution_time_ms, -1);
}

CAF_TEST(a result posted to the id of a later attempt names that attempt) {
  auto body = R"({"result":"","resultType":"resolution"})";
  auto post = decode_job_result(result_request(body, "m-1", "4"));
  CAF_CHECK_EQUAL(post.job_id, "j-1");
  CAF_CHECK_EQUAL(post.attempt, 4);
  for (auto bad : {"0", "-1", "x", "2x", "99999999999"})
    CAF_CHECK_EQUAL(result_refusal(body, "m-1", bad),
                    "attempt: the attempt after the job id must be a whole number from 1 "
                    "(post to the id the poll dispatched)");
}

CAF_TEST(bad result bodies name their field and what is wrong) {
  CAF_CHECK_EQUAL(result_refusal(R"({"result":"a","resultType":"resolution"})", ""),
                  "x-machine-id: the x-machine-id header is required");
  CAF_CHECK_EQUAL(result_refusal("nope"), "body: the body is not valid JSON");
  CAF_CHECK_EQUAL(result_refusal(R"({"resultType":"resolution"})"),
                  "result: result is required");
  CAF_CHECK_EQUAL(result_refusal(R"({"result":1,"resultType":"resolution"})"),
                  "result: result must be a string");
  CAF_CHECK_EQUAL(result_refusal(R"({"result":"a"})"),
                  "resultType: resultType is required");
  CAF_CHECK_EQUAL(result_refusal(R"({"result":"a","resultType":"maybe"})"),
                  "resultType: resultType must be 'resolution' or 'rejection'");
  CAF_CHECK_EQUAL(
      result_refusal(
          R"({"result":"a","resultType":"resolution","functionExecutionTime":-1})"),
      "functionExecutionTime: functionExecutionTime must be between 0 and 2147483647");
  CAF_CHECK_EQUAL(
      result_refusal(
          R"({"result":"a","resultType":"resolution","functionExecutionTime":"5"})"),
      "functionExecutionTime: functionExecutionTime must be a number");
}

CAF_TEST(a repeated callConfig replaces the first one whole) {
  auto request = decode_create_job(with_config(
      R"({"retryCountOnStall":1,"timeoutSeconds":10,"predictiveRetriesOnRejection":false,)"
      R"("background":true,"cache":{"key":"k","ttlSeconds":5}},"callConfig":)"
      R"({"retryCountOnStall":2,"timeoutSeconds":20,"predictiveRetriesOnRejection":true})"));
  CAF_CHECK_EQUAL(request.retry_count_on_stall, 2);
  CAF_CHECK_EQUAL(request.timeout_seconds, 20);
  CAF_CHECK(request.predictive_retries_on_rejection);
  CAF_CHECK(!request.background);
  CAF_CHECK(request.cache_key.empty());
}

CAF_TEST(members of other objects and of arrays are not taken) {
  auto request = decode_create_job(
      R"({"x":[{"service":"no"},["service"]],"y":{"service":"no","callConfig":1},)"
      R"("service":"yes","targetFn":"f","targetArgs":"a"})");
  CAF_CHECK_EQUAL(request.service, "yes");
  CAF_CHECK_EQUAL(request.timeout_seconds, 300);
  CAF_CHECK_EQUAL(
      create_refusal(R"({"x":{"service":"s","targetFn":"f","targetArgs":"a"}})"),
      "targetFn: targetFn is required");
  CAF_CHECK_EQUAL(create_refusal(R"("a string")"),
                  "body: the body must be a JSON object");
  CAF_CHECK_EQUAL(create_refusal(""), "body: the body is not valid JSON");
}
