#include "gateway/router.hpp"

namespace diffplane::gateway {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos)
      end = path.size();
    if (end > start)
      segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

void router::add(http_method method, std::string pattern, handler h) {
  std::vector<std::string> segments;
  for (auto s : split_path(pattern))
    segments.emplace_back(s);
  auto stats = metrics::make_route_metrics(pattern, std::string{to_string(method)});
  routes_.push_back(route{method, std::move(segments), std::move(h), stats});
}

std::vector<std::string> router::table() const {
  std::vector<std::string> entries;
  for (const auto& r : routes_) {
    std::string pattern;
    for (const auto& segment : r.segments)
      pattern += "/" + segment;
    entries.push_back(std::string{to_string(r.method)} + " " +
                      (pattern.empty() ? "/" : pattern));
  }
  return entries;
}

const metrics::route_metrics& router::unmatched() {
  static const auto stats = metrics::make_route_metrics("unmatched", "any");
  return stats;
}

const metrics::route_metrics& router::dispatch(http_request& request,
                                               responder respond) const {
  auto segments = split_path(request.path);
  std::string allowed;
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size())
      continue;
    std::vector<std::pair<std::string, std::string>> params;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      if (!r.segments[i].empty() && r.segments[i].front() == ':')
        params.emplace_back(r.segments[i].substr(1), std::string{segments[i]});
      else
        match = r.segments[i] == segments[i];
    }
    if (!match)
      continue;
    if (r.method != request.method) {
      if (!allowed.empty())
        allowed += ", ";
      allowed += to_string(r.method);
      continue;
    }
    request.params = std::move(params);
    // Ids and names from the URL reach SQL and JSON: refuse what neither can hold.
    for (const auto& [name, value] : request.params)
      if (!is_clean_text(value)) {
        respond(
            json_error(400, name + " must be UTF-8 text without NUL characters", name));
        return r.stats;
      }
    for (const auto& [name, value] : request.query)
      if (!is_clean_text(value) || !is_clean_text(name)) {
        respond(json_error(
            400, "query parameter " + name + " must be UTF-8 text without NUL characters",
            name));
        return r.stats;
      }
    r.run(request, std::move(respond));
    return r.stats;
  }
  if (!allowed.empty()) {
    auto response =
        json_error(405, std::string{to_string(request.method)} + " is not allowed on " +
                            request.path + "; use " + allowed);
    response.headers.emplace_back("Allow", allowed);
    respond(std::move(response));
    return unmatched();
  }
  respond(json_error(404, "no route " + std::string{to_string(request.method)} + " " +
                              request.path));
  return unmatched();
}

} // namespace diffplane::gateway
