#pragma once

// Only the listeners include this (http_server.cpp, native/native_server.cpp), so Asio's
// SSL headers stay out of everything else.
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace diffplane::gateway {

/// A server TLS context (TLS 1.2 and later) holding the PEM certificate chain and its
/// private key; throws std::runtime_error naming the file that could not be used.
std::unique_ptr<boost::asio::ssl::context>
load_server_tls_context(const std::string& cert_file, const std::string& key_file);

} // namespace diffplane::gateway
