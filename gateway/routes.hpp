#pragma once

#include "gateway/actor_bridge.hpp"
#include "gateway/json_codecs.hpp"
#include "gateway/router.hpp"

#include <string>

namespace diffplane::gateway {

/// What the route handlers need.
struct route_context {
  actor_bridge& bridge;
  std::string management_secret;
  decode_limits limits;
  /// The text GET /contract answers with.
  std::string contract_text;
};

/// Every route of the gateway's port: data, management, cluster view and system routes.
void add_api_routes(router& routes, route_context& context);

/// The HTTP API documentation served by GET /contract (embedded at build time).
const std::string& contract_text();

/// The SDK's data routes: jobs, worker polls, results, statuses, metrics.
void add_data_routes(router& routes, route_context& context);
/// The resource routes: inform, read and count resources (routes_resources.cpp).
void add_resource_routes(router& routes, route_context& context);
/// Namespaces, invalidate and delete of resources (routes_resource_namespaces.cpp).
void add_resource_namespace_routes(router& routes, route_context& context);
/// The management routes: clusters and the routes of features not configured here.
void add_management_routes(router& routes, route_context& context);
/// The operator's views of a cluster: service, metrics, activity, one job, settings.
void add_cluster_view_routes(router& routes, route_context& context);
/// The operator's port: GET /metrics in the Prometheus text format.
void add_operator_routes(router& routes);
/// /live and /contract.
void add_system_routes(router& routes, route_context& context);
/// The web console: GET /console and its files, GET /console/:asset (no auth: the
/// files hold no data; the console asks for the management secret and sends it to the
/// API routes like any client).
void add_console_routes(router& routes);

// Shared by the route files.

/// The token after the first space of the Authorization header ("Basic <token>").
std::string authorization_token(const http_request& request);

/// The HTTP answer to a domain error.
http_response error_response(const domain_error& error);

/// Runs `handler` with the cluster of the request's API secret, or answers 401/503.
void with_cluster(route_context& context, http_request& request, responder respond,
                  std::function<void(cluster_ref, http_request&, responder)> handler);

/// The JSON answer `encode(value)`, or a logged 500 should encoding fail: a response is
/// always produced, so no request is left without an answer.
template <class Encode, class T>
http_response encoded(Encode& encode, const T& value, unsigned status) {
  try {
    return http_response{status, encode(value), "application/json", {}};
  } catch (const std::exception& e) {
    return error_response(
        domain_error{error_code::internal, std::string{"encoding failed: "} + e.what()});
  }
}

/// Answers 401 unless the request carries the management secret.
bool authorized_for_management(const route_context& context, const http_request& request,
                               responder& respond);

} // namespace diffplane::gateway
