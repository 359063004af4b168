#include "gateway/routes.hpp"

namespace diffplane::gateway {

namespace {

/// Decodes with `decode`, answering 400 with the field named when the input is bad.
template <class Decode>
auto decode_or_400(Decode decode, responder& respond)
    -> std::optional<decltype(decode())> {
  try {
    return decode();
  } catch (const bad_input& e) {
    respond(json_error(400, e.what(), e.field));
    return std::nullopt;
  }
}

template <class T, class Encode>
callback<T> answer(responder respond, unsigned status, Encode encode) {
  return [respond = std::move(respond), status, encode](outcome<T> result) {
    if (!result.ok())
      respond(error_response(result.error));
    else
      respond(encoded(encode, *result.value, status));
  };
}

} // namespace

void add_data_routes(router& routes, route_context& ctx) {
  routes.add(
      http_method::post, "/jobs", [&ctx](http_request& request, responder respond) {
        with_cluster(
            ctx, request, std::move(respond),
            [&ctx](cluster_ref cluster, http_request& request, responder respond) {
              auto job =
                  decode_or_400([&] { return decode_create_job(request.body); }, respond);
              if (!job)
                return;
              ctx.bridge.create_job(
                  cluster, std::move(*job),
                  answer<std::string>(std::move(respond), 201, encode_job_id));
            });
      });

  routes.add(http_method::post, "/jobs-request",
             [&ctx](http_request& request, responder respond) {
               with_cluster(
                   ctx, request, std::move(respond),
                   [&ctx](cluster_ref cluster, http_request& request, responder respond) {
                     auto poll = decode_or_400(
                         [&] { return decode_jobs_request(request); }, respond);
                     if (!poll)
                       return;
                     ctx.bridge.request_jobs(
                         cluster, std::move(*poll),
                         answer<std::vector<dispatched_job>>(std::move(respond), 200,
                                                             encode_dispatched_jobs));
                   });
             });

  routes.add(
      http_method::post, "/jobs/:jobId/result",
      [&ctx](http_request& request, responder respond) {
        with_cluster(
            ctx, request, std::move(respond),
            [&ctx](cluster_ref cluster, http_request& request, responder respond) {
              auto post =
                  decode_or_400([&] { return decode_job_result(request); }, respond);
              if (!post)
                return;
              // A result that was not persisted is answered like one that was: the
              // worker has nothing to do differently (ARCHITECTURE.md).
              ctx.bridge.post_result(cluster, std::move(*post),
                                     answer<bool>(std::move(respond), 204,
                                                  [](bool) { return std::string{}; }));
            });
      });

  routes.add(
      http_method::get, "/jobs/:jobId", [&ctx](http_request& request, responder respond) {
        with_cluster(
            ctx, request, std::move(respond),
            [&ctx](cluster_ref cluster, http_request& request, responder respond) {
              auto query = decode_or_400([&] { return decode_job_status_query(request); },
                                         respond);
              if (!query)
                return;
              ctx.bridge.job_statuses(cluster, std::move(*query),
                                      answer<std::vector<job_status_row>>(
                                          std::move(respond), 200,
                                          [](const std::vector<job_status_row>& rows) {
                                            return encode_job_status(rows.front());
                                          }));
            });
      });

  routes.add(
      http_method::post, "/batch-jobs-status-request",
      [&ctx](http_request& request, responder respond) {
        with_cluster(
            ctx, request, std::move(respond),
            [&ctx](cluster_ref cluster, http_request& request, responder respond) {
              auto query = decode_or_400(
                  [&] { return decode_batch_status(request.body, ctx.limits); }, respond);
              if (!query)
                return;
              ctx.bridge.job_statuses(cluster, std::move(*query),
                                      answer<std::vector<job_status_row>>(
                                          std::move(respond), 200, encode_job_statuses));
            });
      });

  routes.add(
      http_method::post, "/metrics", [&ctx](http_request& request, responder respond) {
        with_cluster(
            ctx, request, std::move(respond),
            [&ctx](cluster_ref cluster, http_request& request, responder respond) {
              auto events =
                  decode_or_400([&] { return decode_client_events(request); }, respond);
              if (!events)
                return;
              ctx.bridge.post_client_events(
                  cluster, std::move(*events),
                  answer<bool>(std::move(respond), 204,
                               [](bool) { return std::string{}; }));
            });
      });
}

} // namespace diffplane::gateway
