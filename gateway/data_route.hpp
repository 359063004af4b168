#pragma once

#include "gateway/routes.hpp"

// The shape every data route shares (routes_data.cpp, routes_resources.cpp).
namespace diffplane::gateway {

/// A callback answering `status` with `encode(value)`, or the domain error as HTTP.
template <class T, class Encode>
callback<T> answer(responder respond, unsigned status, Encode encode) {
  return [respond = std::move(respond), status, encode](outcome<T> result) {
    if (!result.ok())
      respond(error_response(result.error));
    else
      respond(encoded(encode, *result.value, status));
  };
}

/// The empty body of a 204.
inline std::string no_body(bool) {
  return {};
}

/// A data route: authenticate the API secret, decode the request (400 naming the field
/// when it breaks the contract), then hand it to the cluster with `send`.
template <class Decode, class Send>
void add_data_route(router& routes, route_context& ctx, http_method method,
                    std::string pattern, Decode decode, Send send) {
  routes.add(method, std::move(pattern),
             [&ctx, decode, send](http_request& request, responder respond) {
               with_cluster(
                   ctx, request, std::move(respond),
                   [&ctx, decode, send](cluster_ref cluster, http_request& request,
                                        responder respond) {
                     try {
                       auto input = decode(request);
                       send(ctx.bridge, cluster, std::move(input), std::move(respond));
                     } catch (const bad_input& e) {
                       respond(json_error(400, e.what(), e.field));
                     }
                   });
             });
}

} // namespace diffplane::gateway
