#include "gateway/routes.hpp"

#include "metrics/registry.hpp"

#include <nlohmann/json.hpp>

namespace diffplane::gateway {

namespace {

http_response not_configured(std::string_view feature) {
  return json_error(501,
                    std::string{feature} +
                        " are not configured on this server (no provider is set up)");
}

} // namespace

void add_management_routes(router& routes, route_context& ctx) {
  routes.add(http_method::post, "/clusters",
             [&ctx](http_request& request, responder respond) {
               if (!authorized_for_management(ctx, request, respond))
                 return;
               std::string description;
               try {
                 description = decode_cluster_description(request.body);
               } catch (const bad_input& e) {
                 respond(json_error(400, e.what(), e.field));
                 return;
               }
               ctx.bridge.create_cluster(std::move(description),
                                         [respond](outcome<cluster_record> created) {
                                           if (!created.ok())
                                             respond(error_response(created.error));
                                           else
                                             respond(http_response{204, {}, {}, {}});
                                         });
             });

  routes.add(
      http_method::get, "/clusters", [&ctx](http_request& request, responder respond) {
        if (!authorized_for_management(ctx, request, respond))
          return;
        ctx.bridge.list_clusters(
            [respond](outcome<std::vector<cluster_record>> clusters) {
              if (!clusters.ok())
                respond(error_response(clusters.error));
              else
                respond(http_response{
                    200, encode_clusters(*clusters.value), "application/json", {}});
            });
      });

  routes.add(
      http_method::get, "/nodes", [&ctx](http_request& request, responder respond) {
        if (!authorized_for_management(ctx, request, respond))
          return;
        ctx.bridge.nodes([respond](outcome<membership_view> view) {
          if (!view.ok())
            respond(error_response(view.error));
          else
            respond(
                http_response{200, encode_nodes(*view.value), "application/json", {}});
        });
      });

  routes.add(
      http_method::get, "/clusters/:clusterId",
      [&ctx](http_request& request, responder respond) {
        if (!authorized_for_management(ctx, request, respond))
          return;
        ctx.bridge.cluster_details(
            request.param("clusterId"), [respond](outcome<cluster_details> details) {
              if (!details.ok())
                respond(error_response(details.error));
              else
                respond(http_response{
                    200, encode_cluster_details(*details.value), "application/json", {}});
            });
      });

  // Features of the hosted original that need a cloud provider; none is configurable yet.
  struct unconfigured {
    http_method method;
    const char* pattern;
    const char* feature;
  };
  static constexpr unconfigured features[] = {
      {http_method::post, "/clusters/:clusterId/service/:serviceName/deployments",
       "deployments"},
      {http_method::get, "/clusters/:clusterId/service/:serviceName/deployments",
       "deployments"},
      {http_method::get,
       "/clusters/:clusterId/service/:serviceName/deployments/:deploymentId",
       "deployments"},
      {http_method::post,
       "/clusters/:clusterId/service/:serviceName/deployments/:deploymentId/release",
       "deployments"},
      {http_method::post, "/clusters/:clusterId/client-libraries", "client libraries"},
      {http_method::get, "/clusters/:clusterId/client-libraries", "client libraries"},
      {http_method::post, "/clusters/:clusterId/assets", "assets"},
  };
  for (const auto& f : features) {
    routes.add(f.method, f.pattern,
               [&ctx, feature = f.feature](http_request& request, responder respond) {
                 if (authorized_for_management(ctx, request, respond))
                   respond(not_configured(feature));
               });
  }
  routes.add(
      http_method::get, "/packages/npm/:packageName",
      [](http_request&, responder respond) { respond(not_configured("npm packages")); });
  routes.add(
      http_method::get, "/packages/npm/:packageName/:version",
      [](http_request&, responder respond) { respond(not_configured("npm packages")); });
  routes.add(http_method::post, "/events/sns", [](http_request&, responder respond) {
    respond(not_configured("SNS notifications"));
  });
}

void add_api_routes(router& routes, route_context& context) {
  add_data_routes(routes, context);
  add_resource_routes(routes, context);
  add_management_routes(routes, context);
  add_cluster_view_routes(routes, context);
  add_system_routes(routes, context);
}

void add_operator_routes(router& routes) {
  routes.add(http_method::get, "/metrics", [](http_request&, responder respond) {
    respond(
        http_response{200, metrics::global().render(), "text/plain; version=0.0.4", {}});
  });
}

void add_system_routes(router& routes, route_context& ctx) {
  routes.add(http_method::get, "/live", [&ctx](http_request&, responder respond) {
    ctx.bridge.live([respond](outcome<bool> live) {
      if (live.ok())
        respond(http_response{200, R"({"status":"ok"})", "application/json", {}});
      else
        respond(
            http_response{503,
                          to_json_text(nlohmann::json{{"status", "unavailable"},
                                                      {"message", live.error.message}}),
                          "application/json",
                          {}});
    });
  });
  routes.add(http_method::get, "/contract", [&ctx](http_request&, responder respond) {
    respond(http_response{200,
                          to_json_text(nlohmann::json{{"contract", ctx.contract_text}}),
                          "application/json",
                          {}});
  });
}

} // namespace diffplane::gateway
