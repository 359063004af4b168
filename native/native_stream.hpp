#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace diffplane::native {

/// A native client's byte stream: plain TCP, or TLS over it when the server has a
/// certificate (--tls-cert). The session only reads and writes bytes. Included by the
/// listener alone, so Asio's SSL headers stay out of everything else.
class native_stream {
public:
  /// TLS when `tls` is given (the context must outlive the stream).
  native_stream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls);
  native_stream(const native_stream&) = delete;
  native_stream& operator=(const native_stream&) = delete;

  /// The TCP socket under the stream (addresses, options).
  boost::asio::ip::tcp::socket& socket() { return socket_; }

  /// The server side of the TLS handshake; succeeds at once on plain TCP.
  void async_handshake(std::function<void(boost::system::error_code)> done);

  template <class Handler>
  void async_read_some(boost::asio::mutable_buffer into, Handler&& done) {
    if (tls_)
      tls_->async_read_some(into, std::forward<Handler>(done));
    else
      socket_.async_read_some(into, std::forward<Handler>(done));
  }

  /// Writes every buffer; `buffers` must live until `done` runs.
  template <class Handler>
  void async_write(const std::vector<boost::asio::const_buffer>& buffers,
                   Handler&& done) {
    if (!tls_)
      return boost::asio::async_write(socket_, buffers, std::forward<Handler>(done));
    // An SSL stream writes a buffer sequence one buffer at a time, a TLS record each:
    // gathered into one, the frames of a write share records.
    gathered_.clear();
    for (const auto& b : buffers)
      gathered_.append(static_cast<const char*>(b.data()), b.size());
    boost::asio::async_write(*tls_, boost::asio::buffer(gathered_),
                             std::forward<Handler>(done));
  }

  /// Closes the TCP connection without a TLS close_notify: a client that is cut off
  /// learns it from the closed socket either way.
  void close();

private:
  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  std::string gathered_;
};

} // namespace diffplane::native
