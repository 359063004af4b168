#include "gateway/routes.hpp"

namespace diffplane::gateway {

namespace {

template <class T, class Encode>
callback<T> answer(responder respond, unsigned status, Encode encode) {
  return [respond = std::move(respond), status, encode](outcome<T> result) {
    if (!result.ok())
      respond(error_response(result.error));
    else
      respond(encoded(encode, *result.value, status));
  };
}

std::string no_body(bool) {
  return {};
}

/// A data route: authenticate the API secret, decode the request (400 naming the field
/// when it breaks the contract), then hand it to the cluster with `send`.
template <class Decode, class Send>
void add_data_route(router& routes, route_context& ctx, http_method method, std::string pattern,
                    Decode decode, Send send) {
  routes.add(method, std::move(pattern),
             [&ctx, decode, send](http_request& request, responder respond) {
               with_cluster(ctx, request, std::move(respond),
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

} // namespace

void add_data_routes(router& routes, route_context& ctx) {
  add_data_route(
    routes, ctx, http_method::post, "/jobs",
    [](const http_request& r) { return decode_create_job(r.body); },
    [](actor_bridge& bridge, const cluster_ref& c, create_job_request job, responder respond) {
      bridge.create_job(c, std::move(job),
                        answer<std::string>(std::move(respond), 201, encode_job_id));
    });

  add_data_route(
    routes, ctx, http_method::post, "/jobs-request",
    [](const http_request& r) { return decode_jobs_request(r); },
    [](actor_bridge& bridge, const cluster_ref& c, jobs_request poll, responder respond) {
      bridge.request_jobs(c, std::move(poll),
                          answer<std::vector<dispatched_job>>(std::move(respond), 200,
                                                              encode_dispatched_jobs));
    });

  // A result that was not persisted is answered like one that was: the worker has
  // nothing to do differently (ARCHITECTURE.md). A later attempt is dispatched as
  // "<jobId>/<attempt>", which the worker puts in the path as it is.
  for (const auto* pattern : {"/jobs/:jobId/result", "/jobs/:jobId/:attempt/result"})
    add_data_route(
      routes, ctx, http_method::post, pattern,
      [](const http_request& r) { return decode_job_result(r); },
      [](actor_bridge& bridge, const cluster_ref& c, job_result_post post,
         responder respond) {
        bridge.post_result(c, std::move(post),
                           answer<bool>(std::move(respond), 204, no_body));
      });

  add_data_route(
    routes, ctx, http_method::get, "/jobs/:jobId",
    [](const http_request& r) { return decode_job_status_query(r); },
    [](actor_bridge& bridge, const cluster_ref& c, status_request query, responder respond) {
      bridge.job_statuses(c, std::move(query),
                          answer<std::vector<job_status_row>>(
                            std::move(respond), 200, [](const std::vector<job_status_row>& rows) {
                              return encode_job_status(rows.front());
                            }));
    });

  const auto& limits = ctx.limits;
  add_data_route(
    routes, ctx, http_method::post, "/batch-jobs-status-request",
    [&limits](const http_request& r) { return decode_batch_status(r.body, limits); },
    [](actor_bridge& bridge, const cluster_ref& c, status_request query, responder respond) {
      bridge.job_statuses(c, std::move(query),
                          answer<std::vector<job_status_row>>(std::move(respond), 200,
                                                              encode_job_statuses));
    });

  add_data_route(
    routes, ctx, http_method::post, "/metrics",
    [](const http_request& r) { return decode_client_events(r); },
    [](actor_bridge& bridge, const cluster_ref& c, client_events_post events, responder respond) {
      bridge.post_client_events(c, std::move(events),
                                answer<bool>(std::move(respond), 204, no_body));
    });
}

} // namespace diffplane::gateway
