#include "gateway/routes.hpp"

namespace diffplane::gateway {

namespace {

template <class T, class Encode>
callback<T> answer_json(responder respond, Encode encode) {
  return [respond = std::move(respond), encode](outcome<T> result) {
    if (!result.ok())
      respond(error_response(result.error));
    else
      respond(encoded(encode, *result.value, 200));
  };
}

/// Registers a management GET route: checks the secret, then runs `handler`.
template <class Handler>
void add_view(router& routes, route_context& ctx, std::string pattern, Handler handler) {
  routes.add(http_method::get, std::move(pattern),
             [&ctx, handler](http_request& request, responder respond) {
               if (authorized_for_management(ctx, request, respond))
                 handler(request, std::move(respond));
             });
}

} // namespace

void add_cluster_view_routes(router& routes, route_context& ctx) {
  add_view(
      routes, ctx, "/clusters/:clusterId/service/:serviceName",
      [&ctx](http_request& request, responder respond) {
        std::int32_t limit = 0;
        try {
          limit = decode_service_limit(request);
        } catch (const bad_input& e) {
          respond(json_error(400, e.what(), e.field));
          return;
        }
        ctx.bridge.service_details(
            request.param("clusterId"),
            service_details_request{request.param("serviceName"), limit},
            answer_json<service_details>(std::move(respond), encode_service_details));
      });

  add_view(routes, ctx, "/clusters/:clusterId/metrics",
           [&ctx](http_request& request, responder respond) {
             const auto* service = request.query_value("serviceName");
             if (service == nullptr || service->empty()) {
               respond(json_error(400, "the serviceName query parameter is required",
                                  "serviceName"));
               return;
             }
             ctx.bridge.service_metrics(
                 request.param("clusterId"), metrics_query{{}, *service},
                 answer_json<function_metrics>(std::move(respond), encode_metrics));
           });

  add_view(routes, ctx, "/clusters/:clusterId/activity",
           [&ctx](http_request& request, responder respond) {
             activity_query query;
             if (const auto* job = request.query_value("jobId"))
               query.job_id = *job;
             if (const auto* deployment = request.query_value("deploymentId"))
               query.deployment_id = *deployment;
             ctx.bridge.activity(request.param("clusterId"), std::move(query),
                                 answer_json<std::vector<event_record>>(
                                     std::move(respond), encode_activity));
           });

  add_view(routes, ctx, "/clusters/:clusterId/jobs/:jobId",
           [&ctx](http_request& request, responder respond) {
             ctx.bridge.job_detail(
                 request.param("clusterId"), request.param("jobId"),
                 answer_json<job_detail>(std::move(respond), encode_job_detail));
           });

  add_view(routes, ctx, "/clusters/:clusterId/settings",
           [&ctx](http_request& request, responder respond) {
             ctx.bridge.settings(
                 request.param("clusterId"),
                 answer_json<cluster_settings>(std::move(respond), encode_settings));
           });

  routes.add(http_method::put, "/clusters/:clusterId/settings",
             [&ctx](http_request& request, responder respond) {
               if (!authorized_for_management(ctx, request, respond))
                 return;
               cluster_settings settings;
               try {
                 settings = decode_settings(request.body);
               } catch (const bad_input& e) {
                 respond(json_error(400, e.what(), e.field));
                 return;
               }
               ctx.bridge.change_settings(request.param("clusterId"), settings,
                                          [respond](outcome<bool> changed) {
                                            if (!changed.ok())
                                              respond(error_response(changed.error));
                                            else
                                              respond(http_response{204, {}, {}, {}});
                                          });
             });
}

} // namespace diffplane::gateway
