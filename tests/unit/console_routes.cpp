#define CAF_SUITE console_routes

#include "gateway/console_assets.hpp"
#include "gateway/routes.hpp"

#include <caf/test/unit_test.hpp>

#include <regex>
#include <set>
#include <string>

using namespace diffplane::gateway;

namespace {

/// The answer of the console routes to GET `path` (they answer synchronously).
http_response get(const std::string& path) {
  router routes;
  add_console_routes(routes);
  http_request request;
  request.method = http_method::get;
  request.target = path;
  request.path = path;
  http_response answer;
  routes.dispatch(request, [&answer](http_response response) { answer = response; });
  return answer;
}

std::string header(const http_response& response, const std::string& name) {
  for (const auto& [key, value] : response.headers)
    if (key == name)
      return value;
  return {};
}

std::set<std::string> asset_names() {
  std::set<std::string> names;
  for (const auto& asset : console_assets())
    names.emplace(asset.name);
  return names;
}

} // namespace

CAF_TEST(the console page is html that no other site may frame) {
  auto page = get("/console");
  CAF_CHECK_EQUAL(page.status, 200u);
  CAF_CHECK_EQUAL(page.content_type, "text/html; charset=utf-8");
  CAF_CHECK(page.body.find("/console/app.js") != std::string::npos);
  auto policy = header(page, "Content-Security-Policy");
  CAF_CHECK(policy.find("default-src 'none'") != std::string::npos);
  CAF_CHECK(policy.find("script-src 'self'") != std::string::npos);
  CAF_CHECK(policy.find("frame-ancestors 'none'") != std::string::npos);
  CAF_CHECK(policy.find("unsafe-inline") == std::string::npos);
  CAF_CHECK(policy.find("unsafe-eval") == std::string::npos);
  CAF_CHECK_EQUAL(header(page, "X-Frame-Options"), "DENY");
  CAF_CHECK_EQUAL(header(page, "X-Content-Type-Options"), "nosniff");
  CAF_CHECK_EQUAL(get("/console/").body, page.body);
}

CAF_TEST(every asset is served with the content type of its kind) {
  CAF_REQUIRE(!console_assets().empty());
  for (const auto& asset : console_assets()) {
    std::string name{asset.name};
    auto answer = get("/console/" + name);
    CAF_CHECK_EQUAL(answer.status, 200u);
    CAF_CHECK_EQUAL(answer.body, std::string{asset.body});
    auto dot = name.rfind('.');
    auto extension = name.substr(dot + 1);
    std::string expected = extension == "js"     ? "text/javascript; charset=utf-8"
                           : extension == "css"  ? "text/css; charset=utf-8"
                           : extension == "html" ? "text/html; charset=utf-8"
                                                 : "image/svg+xml";
    CAF_CHECK_EQUAL(answer.content_type, expected);
    CAF_CHECK(!header(answer, "Content-Security-Policy").empty());
  }
}

CAF_TEST(an unknown console file is 404) {
  CAF_CHECK_EQUAL(get("/console/nope.js").status, 404u);
  CAF_CHECK_EQUAL(get("/console/a/b").status, 404u);
}

CAF_TEST(every module the console imports is embedded) {
  // A module missing from the binary would fail only in a browser; catch it here.
  auto names = asset_names();
  std::regex import_from{R"re(from "\./([A-Za-z0-9_.-]+)")re"};
  std::regex link{R"re((?:src|href)="/console/([A-Za-z0-9_.-]+)")re"};
  for (const auto& asset : console_assets()) {
    std::string body{asset.body};
    for (const auto& pattern : {import_from, link})
      for (std::sregex_iterator it{body.begin(), body.end(), pattern}, end; it != end;
           ++it) {
        auto target = (*it)[1].str();
        CAF_MESSAGE(asset.name << " -> " << target);
        CAF_CHECK(names.count(target) == 1);
      }
  }
}

CAF_TEST(the console sets no inline style or script the policy would block) {
  for (const auto& asset : console_assets()) {
    std::string body{asset.body};
    CAF_CHECK(body.find("style=") == std::string::npos);
    CAF_CHECK(body.find("innerHTML") == std::string::npos);
    if (asset.name == "index.html")
      CAF_CHECK(body.find("<script>") == std::string::npos);
  }
}
