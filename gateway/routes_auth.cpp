#include "actors/secrets.hpp"
#include "gateway/routes.hpp"

#include <spdlog/spdlog.h>

namespace diffplane::gateway {

std::string authorization_token(const http_request& request) {
  auto header = request.header("authorization");
  auto space = header.find(' ');
  if (space == std::string_view::npos)
    return {};
  auto token = header.substr(space + 1);
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  return std::string{token};
}

http_response error_response(const domain_error& error) {
  switch (error.code) {
  case error_code::bad_request:
    return json_error(400, error.message);
  case error_code::unauthorized:
    return json_error(401, error.message);
  case error_code::not_found:
    return json_error(404, error.message);
  case error_code::limit_reached:
    return json_error(429, error.message);
  case error_code::overloaded:
  case error_code::moved:
  case error_code::unreachable:
  case error_code::unavailable: {
    // Both pass: a full queue drains and a database comes back within seconds, or the
    // caller's next try meets the same quick 503.
    auto response = json_error(503, error.message);
    response.headers.emplace_back("retry-after", "1");
    return response;
  }
  case error_code::none:
  case error_code::internal:
    break;
  }
  spdlog::error("event=internal_error reason=\"{}\"", error.message);
  return json_error(500, "internal error");
}

void with_cluster(route_context& context, http_request& request, responder respond,
                  std::function<void(cluster_ref, http_request&, responder)> handler) {
  auto token = authorization_token(request);
  if (token.empty()) {
    respond(json_error(401, "missing Authorization header: use 'Basic <API secret>'"));
    return;
  }
  // The answer may come later on another thread: the request moves along with it.
  auto owned = std::make_shared<http_request>(std::move(request));
  context.bridge.authenticate(
      token, [owned, respond = std::move(respond),
              handler = std::move(handler)](outcome<cluster_ref> cluster) mutable {
        if (!cluster.ok()) {
          if (cluster.error.code == error_code::unauthorized)
            respond(json_error(401, "invalid API secret"));
          else
            respond(error_response(cluster.error));
          return;
        }
        handler(std::move(*cluster.value), *owned, std::move(respond));
      });
}

bool authorized_for_management(const route_context& context, const http_request& request,
                               responder& respond) {
  auto token = authorization_token(request);
  if (token.empty()) {
    respond(
        json_error(401, "missing Authorization header: use 'Basic <management secret>'"));
    return false;
  }
  if (!secrets::constant_time_equals(token, context.management_secret)) {
    respond(json_error(401, "invalid management secret"));
    return false;
  }
  return true;
}

} // namespace diffplane::gateway
