#include "gateway/tls_context.hpp"

#include <openssl/ssl.h>

#include <stdexcept>

namespace diffplane::gateway {

namespace ssl = boost::asio::ssl;

std::unique_ptr<ssl::context> load_server_tls_context(const std::string& cert_file,
                                                      const std::string& key_file) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  // Idle keep-alive connections (and parked long-polls) would otherwise hold about
  // 34 KB of OpenSSL buffers each.
  SSL_CTX_set_mode(context->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  boost::system::error_code ec;
  context->use_certificate_chain_file(cert_file, ec);
  if (ec)
    throw std::runtime_error("--tls-cert: cannot use '" + cert_file +
                             "' as a PEM certificate chain: " + ec.message());
  // OpenSSL also checks here that the key belongs to the certificate.
  context->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec)
    throw std::runtime_error(
        "--tls-key: cannot use '" + key_file +
        "' as the PEM private key of the certificate: " + ec.message());
  return context;
}

} // namespace diffplane::gateway
