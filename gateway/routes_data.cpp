#include "gateway/data_route.hpp"

namespace diffplane::gateway {

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
