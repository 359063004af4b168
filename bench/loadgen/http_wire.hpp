#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/verb.hpp>

#include <string>
#include <string_view>

// The bytes loadgen sends and the little it keeps of an answer. Beast's message types
// build and walk a container of header fields for every request and answer; loadgen needs
// none of them, and that machinery was a fifth of its CPU, CPU the server under test then
// lacked (docs/BENCHMARKS.md, fifth round). Answers are still parsed by Beast's parser.
namespace diffplane::bench {

/// One HTTP/1.1 keep-alive request: a JSON body when `body` is not empty, and the
/// x-machine-id header when `machine_id` is not empty.
struct request_head {
  boost::beast::http::verb method;
  std::string_view target;
  std::string_view host;
  std::string_view authorization;
  std::string_view machine_id;
};

/// Replaces `out` with the request `head` and `body`, as Beast would have written them.
void write_request(std::string& out, const request_head& head, std::string_view body);

/// Parses an answer into its status and body, keeping no header fields.
class answer_parser : public boost::beast::http::basic_parser<false> {
public:
  unsigned status() const { return status_; }
  std::string& body() { return body_; }

private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(boost::beast::http::verb, string_view, string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, string_view, int, error_code&) override {
    status_ = static_cast<unsigned>(code);
  }
  void on_field_impl(boost::beast::http::field, string_view, string_view,
                     error_code&) override {}
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         error_code&) override {
    if (length)
      body_.reserve(static_cast<std::size_t>(*length));
  }
  std::size_t on_body_impl(string_view data, error_code&) override {
    body_.append(data.data(), data.size());
    return data.size();
  }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view data, error_code&) override {
    body_.append(data.data(), data.size());
    return data.size();
  }
  void on_finish_impl(error_code&) override {}

  unsigned status_ = 0;
  std::string body_;
};

} // namespace diffplane::bench
