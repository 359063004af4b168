#pragma once

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The gateway's own view of HTTP requests and responses, free of Beast so that routes and
// codecs compile without it.
namespace diffplane::gateway {

enum class http_method { get, post, put, delete_, other };

struct http_request {
  http_method method = http_method::other;
  std::string target; // as sent, with query
  std::string path;   // decoded path without query
  std::vector<std::pair<std::string, std::string>> query;
  /// Header names in lower case.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_ip;
  /// Values of the route pattern's :params, filled by the router.
  std::vector<std::pair<std::string, std::string>> params;

  /// The header's value, or an empty view.
  std::string_view header(std::string_view lower_name) const;
  /// The query parameter's value, or nullptr.
  const std::string* query_value(std::string_view name) const;
  /// The path parameter's value (empty when the route has none of that name).
  const std::string& param(std::string_view name) const;
};

struct http_response {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Sends the response of one request; call exactly once, from any thread.
using responder = std::function<void(http_response)>;

/// A JSON error body: {"error": <kind>, "message": <message>} (+ "field" when given).
http_response json_error(unsigned status, std::string_view message,
                         std::string_view field = {});

/// Whether `text` is well-formed UTF-8 without NUL characters: what we can store in
/// Postgres text and write into JSON.
bool is_clean_text(std::string_view text);

/// A JSON value as text; invalid UTF-8 is replaced rather than thrown on.
std::string to_json_text(const nlohmann::json& value);

/// Percent-decodes a URL component ('+' stays '+'); false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out);

std::string_view to_string(http_method method);

} // namespace diffplane::gateway
