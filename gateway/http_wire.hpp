#pragma once

// Beast is included here, so only http_server.cpp, its tests and the HTTP fuzzer include
// this header.
#include "gateway/http_types.hpp"

#include <boost/beast/http/basic_parser.hpp>

#include <string>

// How requests come off the wire and answers go onto it. Beast parses each request; the
// reader below hands its parts straight to an http_request instead of first building
// Beast's own container of fields, and an answer's head is written as bytes instead of
// through Beast's serializer. Those two layers were a tenth of the HTTP thread's CPU in
// the saturated cycle (docs/BENCHMARKS.md, fifth round).
namespace diffplane::gateway {

/// Parses one request into an http_request: method, target, version, header names in
/// lower case, and body. Beast enforces the header and body limits.
class request_reader : public boost::beast::http::basic_parser<true> {
public:
  http_request& request() { return request_; }
  /// 10 for HTTP/1.0, 11 for HTTP/1.1.
  unsigned version() const { return version_; }

private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(boost::beast::http::verb method, string_view method_text,
                       string_view target, int version, error_code&) override;
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                     error_code&) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         error_code&) override;
  std::size_t on_body_impl(string_view data, error_code&) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view data, error_code&) override;
  void on_finish_impl(error_code&) override {}

  http_request request_;
  unsigned version_ = 11;
};

/// Splits the request's "path?query" target into its percent-decoded path and query
/// pairs; false when an escape is malformed.
bool parse_target(std::string_view target, http_request& request);

/// The answer to a request that could not be read (`ec` is not end of stream or a
/// timeout): 413 over the body limit, 431 over the header limit, else 400.
http_response read_error_answer(const boost::beast::error_code& ec,
                                std::size_t body_limit, std::size_t header_limit);

/// Whether an answer with `status` may carry a body (none for 1xx, 204 and 304).
bool status_has_body(unsigned status);

/// Replaces `out` with the status line and header of `response` for an HTTP/`version`
/// client, as Beast's serializer would have written them: Content-Length except where
/// the status forbids a body, and the Connection header that `keep_alive` needs.
void write_response_head(std::string& out, const http_response& response,
                         unsigned version, bool keep_alive);

} // namespace diffplane::gateway
