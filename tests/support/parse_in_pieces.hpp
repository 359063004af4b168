#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <string>
#include <string_view>

namespace diffplane::test {

/// Feeds `text` to `parser` in pieces of `piece` bytes, as reads from a socket would;
/// returns the parse error, need_more when the message is incomplete.
template <bool IsRequest>
boost::beast::error_code
parse_in_pieces(boost::beast::http::basic_parser<IsRequest>& parser,
                std::string_view text, std::size_t piece = 7) {
  namespace http = boost::beast::http;
  parser.eager(true);
  std::string pending;
  boost::beast::error_code ec;
  for (std::size_t at = 0; at < text.size() && !parser.is_done(); at += piece) {
    pending.append(text.substr(at, piece));
    auto used = parser.put(boost::asio::buffer(pending), ec);
    if (ec && ec != http::error::need_more)
      return ec;
    ec = {};
    pending.erase(0, used);
  }
  return parser.is_done() ? boost::beast::error_code{}
                          : boost::beast::error_code{http::error::need_more};
}

} // namespace diffplane::test
