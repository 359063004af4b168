#include "native/native_stream.hpp"

#include <boost/asio/post.hpp>

namespace diffplane::native {

namespace asio = boost::asio;

native_stream::native_stream(asio::ip::tcp::socket socket, asio::ssl::context* tls)
    : socket_(std::move(socket)) {
  if (tls != nullptr)
    tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *tls);
}

void native_stream::async_handshake(std::function<void(boost::system::error_code)> done) {
  if (!tls_)
    return asio::post(socket_.get_executor(),
                      [done = std::move(done)] { done(boost::system::error_code{}); });
  tls_->async_handshake(asio::ssl::stream_base::server, std::move(done));
}

void native_stream::close() {
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

} // namespace diffplane::native
