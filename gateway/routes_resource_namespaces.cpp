#include "gateway/data_route.hpp"
#include "gateway/resource_namespace_codecs.hpp"

#include <nlohmann/json.hpp>

// The namespace routes of resources and the commands on one resource (invalidate,
// delete), under the cluster's API secret (docs/http-api.md, "Resources").
namespace diffplane::gateway {

namespace {

/// The HTTP answer of a command: 404 unknown, 409 invalidate of a resource not synced,
/// 200 {"kind", "id", "state"} after an invalidate, 204 after a delete.
http_response command_response(const resource_command& command,
                               const resource_command_result& result) {
  auto name = command.kind + "/" + command.id;
  if (result.outcome == "not_found")
    return json_error(404, "resource " + name + " not found");
  if (result.outcome == "not_synced")
    return json_error(409, "resource " + name + " is " + result.state +
                               ": only a synced resource can be invalidated");
  if (command.remove)
    return http_response{204, {}, "application/json", {}};
  return http_response{
      200,
      nlohmann::json{{"kind", command.kind}, {"id", command.id}, {"state", result.state}}
          .dump(),
      "application/json",
      {}};
}

void add_command_route(router& routes, route_context& ctx, http_method method,
                       std::string pattern, bool remove) {
  add_data_route(
      routes, ctx, method, std::move(pattern),
      [remove](const http_request& r) { return decode_resource_command(r, remove); },
      [](actor_bridge& bridge, const cluster_ref& c, resource_command command,
         responder respond) {
        bridge.resource_command(c, command,
                                [respond = std::move(respond),
                                 command](outcome<resource_command_result> result) {
                                  if (!result.ok())
                                    respond(error_response(result.error));
                                  else
                                    respond(command_response(command, *result.value));
                                });
      });
}

} // namespace

void add_resource_namespace_routes(router& routes, route_context& ctx) {
  for (auto method : {http_method::get, http_method::put})
    add_data_route(
        routes, ctx, method, "/resources-namespaces/:name",
        [](const http_request& r) { return decode_resource_namespace(r); },
        [](actor_bridge& bridge, const cluster_ref& c, resource_namespace_request request,
           responder respond) {
          bridge.resource_namespace(
              c, std::move(request),
              answer<resource_namespace_record>(std::move(respond), 200,
                                                encode_resource_namespace));
        });
  add_command_route(routes, ctx, http_method::post, "/resources/:kind/:id/invalidate",
                    false);
  add_command_route(routes, ctx, http_method::delete_, "/resources/:kind/:id", true);
}

} // namespace diffplane::gateway
