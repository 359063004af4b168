#include "gateway/data_route.hpp"
#include "gateway/resource_codecs.hpp"
#include "gateway/resource_event_codecs.hpp"

// The resource routes (docs/http-api.md, "Resources"), under the cluster's API secret
// like the SDK's data routes.
namespace diffplane::gateway {

void add_resource_routes(router& routes, route_context& ctx) {
  add_data_route(
      routes, ctx, http_method::post, "/resources",
      [](const http_request& r) { return decode_inform(r.body); },
      [](actor_bridge& bridge, const cluster_ref& c, resource_inform_request request,
         responder respond) {
        bridge.inform_resources(c, std::move(request),
                                answer<std::vector<inform_result>>(
                                    std::move(respond), 200, encode_inform_results));
      });

  add_data_route(
      routes, ctx, http_method::get, "/resources",
      [](const http_request& r) { return decode_resource_list(r); },
      [](actor_bridge& bridge, const cluster_ref& c, resource_query query,
         responder respond) {
        bridge.query_resources(
            c, std::move(query),
            answer<resource_page>(std::move(respond), 200, encode_resource_page));
      });

  // Two segments, so never taken for a resource (three): a long-poll with a cursor.
  add_data_route(
      routes, ctx, http_method::get, "/resources/events",
      [](const http_request& r) { return decode_resource_events(r); },
      [](actor_bridge& bridge, const cluster_ref& c, resource_events_request request,
         responder respond) {
        bridge.resource_events(c, std::move(request),
                               answer<resource_events_page>(std::move(respond), 200,
                                                            encode_resource_events));
      });

  add_data_route(
      routes, ctx, http_method::get, "/resources/:kind/:id",
      [](const http_request& r) { return decode_resource_get(r); },
      [](actor_bridge& bridge, const cluster_ref& c, resource_query query,
         responder respond) {
        auto name = query.kind + "/" + query.id;
        bridge.query_resources(
            c, std::move(query),
            [respond = std::move(respond), name](outcome<resource_page> result) {
              if (!result.ok())
                respond(error_response(result.error));
              else if (result.value->items.empty())
                respond(json_error(404, "resource " + name + " not found"));
              else
                respond(encoded(encode_resource, result.value->items.front(), 200));
            });
      });

  for (auto method : {http_method::get, http_method::put})
    add_data_route(
        routes, ctx, method, "/resources-kinds/:kind",
        [](const http_request& r) { return decode_resource_kind(r); },
        [](actor_bridge& bridge, const cluster_ref& c, resource_kind_request request,
           responder respond) {
          bridge.resource_kind(c, std::move(request),
                               answer<resource_kind_record>(std::move(respond), 200,
                                                            encode_resource_kind));
        });

  add_data_route(
      routes, ctx, http_method::get, "/resources-counts",
      [](const http_request& r) { return decode_resource_counts(r); },
      [](actor_bridge& bridge, const cluster_ref& c, resource_counts_query query,
         responder respond) {
        bridge.count_resources(c, std::move(query),
                               answer<std::vector<resource_count>>(
                                   std::move(respond), 200, encode_resource_counts));
      });

  add_resource_namespace_routes(routes, ctx);
}

} // namespace diffplane::gateway
