#include "gateway/http_wire.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

namespace diffplane::gateway {

namespace http = boost::beast::http;

namespace {

http_method method_of(http::verb verb) {
  switch (verb) {
  case http::verb::get:
    return http_method::get;
  case http::verb::post:
    return http_method::post;
  case http::verb::put:
    return http_method::put;
  case http::verb::delete_:
    return http_method::delete_;
  default:
    return http_method::other;
  }
}

} // namespace

bool status_has_body(unsigned status) {
  return status >= 200 && status != 204 && status != 304;
}

bool parse_target(std::string_view target, http_request& request) {
  auto question = target.find('?');
  if (!percent_decode(target.substr(0, question), request.path))
    return false;
  if (question == std::string_view::npos)
    return true;
  auto query = target.substr(question + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    std::string key;
    std::string value;
    if (!percent_decode(pair.substr(0, eq), key))
      return false;
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), value))
      return false;
    request.query.emplace_back(std::move(key), std::move(value));
  }
  return true;
}

http_response read_error_answer(const boost::beast::error_code& ec,
                                std::size_t body_limit, std::size_t header_limit) {
  if (ec == http::error::body_limit)
    return json_error(413, "the request body is larger than the limit of " +
                               std::to_string(body_limit) + " bytes");
  if (ec == http::error::header_limit)
    return json_error(431, "the request headers are larger than the limit of " +
                               std::to_string(header_limit) + " bytes");
  return json_error(400, "malformed HTTP request: " + ec.message());
}

void request_reader::on_request_impl(http::verb method, string_view, string_view target,
                                     int version, error_code&) {
  request_.method = method_of(method);
  request_.target.assign(target.data(), target.size());
  version_ = static_cast<unsigned>(version);
}

void request_reader::on_field_impl(http::field, string_view name, string_view value,
                                   error_code&) {
  auto& [lower, text] = request_.headers.emplace_back();
  lower.resize(name.size());
  for (std::size_t i = 0; i < name.size(); ++i) {
    auto c = name[i];
    lower[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  text.assign(value.data(), value.size());
}

void request_reader::on_body_init_impl(const boost::optional<std::uint64_t>& length,
                                       error_code&) {
  // Beast has checked the length against the body limit already.
  if (length)
    request_.body.reserve(static_cast<std::size_t>(*length));
}

std::size_t request_reader::on_body_impl(string_view data, error_code&) {
  request_.body.append(data.data(), data.size());
  return data.size();
}

std::size_t request_reader::on_chunk_body_impl(std::uint64_t, string_view data,
                                               error_code&) {
  request_.body.append(data.data(), data.size());
  return data.size();
}

void write_response_head(std::string& out, const http_response& response,
                         unsigned version, bool keep_alive) {
  auto line = [&out](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  out.assign(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  auto reason = http::obsolete_reason(http::int_to_status(response.status));
  out.append(std::to_string(response.status))
      .append(" ")
      .append(reason.data(), reason.size())
      .append("\r\n");
  if (!response.body.empty() || response.status != 204)
    line("Content-Type", response.content_type);
  for (const auto& [name, value] : response.headers)
    line(name, value);
  if (status_has_body(response.status))
    line("Content-Length", std::to_string(response.body.size()));
  // HTTP/1.1 keeps a connection open unless told otherwise; HTTP/1.0 closes it unless
  // told otherwise.
  if (version >= 11 && !keep_alive)
    line("Connection", "close");
  else if (version < 11 && keep_alive)
    line("Connection", "keep-alive");
  out.append("\r\n");
}

} // namespace diffplane::gateway
