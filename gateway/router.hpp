#pragma once

#include "gateway/http_types.hpp"
#include "metrics/catalog.hpp"

#include <functional>
#include <string>
#include <vector>

namespace diffplane::gateway {

/// Maps method + path pattern ("/jobs/:jobId/result") to handlers. Unknown paths get 404,
/// known paths with another method 405 with an Allow header.
class router {
public:
  using handler = std::function<void(http_request&, responder)>;

  void add(http_method method, std::string pattern, handler h);

  /// Finds the route of `request`, fills its params and runs the handler; returns where
  /// to count the request (a shared slot for requests no route matched).
  const metrics::route_metrics& dispatch(http_request& request, responder respond) const;

  /// Where requests that reached no route are counted (also malformed ones).
  static const metrics::route_metrics& unmatched();

  /// "METHOD /pattern" of every route in the order added: tests check that they cover
  /// each one.
  std::vector<std::string> table() const;

private:
  struct route {
    http_method method;
    std::vector<std::string> segments;
    handler run;
    metrics::route_metrics stats;
  };
  std::vector<route> routes_;
};

/// The path split at '/', without empty segments.
std::vector<std::string_view> split_path(std::string_view path);

} // namespace diffplane::gateway
