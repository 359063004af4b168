#include "gateway/console_assets.hpp"
#include "gateway/routes.hpp"

namespace diffplane::gateway {

namespace {

/// The console loads its own scripts and styles and talks to this origin only; nothing
/// inline, nothing from elsewhere, and no page may frame it (clickjacking of the
/// management secret's buttons).
constexpr std::string_view content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

http_response asset_response(const console_asset& asset) {
  http_response response{
      200, std::string{asset.body}, std::string{asset.content_type}, {}};
  response.headers.emplace_back("Content-Security-Policy",
                                std::string{content_security_policy});
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  // The binary is the version: a browser must not keep assets of the last one.
  response.headers.emplace_back("Cache-Control", "no-cache");
  return response;
}

const console_asset* find_asset(std::string_view name) {
  for (const auto& asset : console_assets())
    if (asset.name == name)
      return &asset;
  return nullptr;
}

} // namespace

void add_console_routes(router& routes) {
  routes.add(http_method::get, "/console", [](http_request&, responder respond) {
    if (const auto* index = find_asset("index.html"))
      respond(asset_response(*index));
    else
      respond(json_error(404, "the console has no index.html"));
  });
  routes.add(http_method::get, "/console/:asset",
             [](http_request& request, responder respond) {
               const auto& name = request.param("asset");
               if (const auto* asset = find_asset(name))
                 respond(asset_response(*asset));
               else
                 respond(json_error(404, "no console file " + name));
             });
}

} // namespace diffplane::gateway
