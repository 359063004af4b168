#include "gateway/http_types.hpp"

#include <nlohmann/json.hpp>

namespace diffplane::gateway {

std::string_view http_request::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name)
      return value;
  return {};
}

const std::string* http_request::query_value(std::string_view name) const {
  for (const auto& [key, value] : query)
    if (key == name)
      return &value;
  return nullptr;
}

const std::string& http_request::param(std::string_view name) const {
  static const std::string none;
  for (const auto& [key, value] : params)
    if (key == name)
      return value;
  return none;
}

namespace {

std::string_view error_kind(unsigned status) {
  switch (status) {
  case 400:
    return "bad_request";
  case 401:
    return "unauthorized";
  case 404:
    return "not_found";
  case 405:
    return "method_not_allowed";
  case 408:
    return "request_timeout";
  case 409:
    return "conflict";
  case 413:
    return "payload_too_large";
  case 429:
    return "too_many_requests";
  case 431:
    return "headers_too_large";
  case 501:
    return "not_implemented";
  case 503:
    return "unavailable";
  default:
    return status >= 500 ? "internal" : "error";
  }
}

} // namespace

http_response json_error(unsigned status, std::string_view message,
                         std::string_view field) {
  nlohmann::json body{{"error", error_kind(status)}, {"message", message}};
  if (!field.empty())
    body["field"] = field;
  http_response response;
  response.status = status;
  response.body = to_json_text(body);
  return response;
}

bool is_clean_text(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == 0)
      return false;
    std::size_t extra = c < 0x80           ? 0
                        : (c >> 5) == 0x6  ? 1
                        : (c >> 4) == 0xE  ? 2
                        : (c >> 3) == 0x1E ? 3
                                           : 4;
    if (extra == 4 || i + extra >= text.size() + (extra == 0 ? 1 : 0))
      return false;
    std::uint32_t code = extra == 0 ? c : c & (0x3F >> extra);
    for (std::size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80)
        return false;
      code = (code << 6) | (next & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    static constexpr std::uint32_t smallest[] = {0, 0x80, 0x800, 0x10000};
    if (code < smallest[extra] || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF)
      return false;
    i += extra + 1;
  }
  return true;
}

std::string to_json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size())
      return false;
    int hi = hex(in[i + 1]);
    int lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0)
      return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::string_view to_string(http_method method) {
  switch (method) {
  case http_method::get:
    return "GET";
  case http_method::post:
    return "POST";
  case http_method::put:
    return "PUT";
  case http_method::delete_:
    return "DELETE";
  case http_method::other:
    break;
  }
  return "OTHER";
}

} // namespace diffplane::gateway
