#define CAF_SUITE native_tls

#include "http_test_helpers.hpp"
#include "raw_connection.hpp"
#include "test_certificate.hpp"
#include "test_database.hpp"

#include <diffplane/client/client.hpp>
#include <diffplane/protocol.hpp>

#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <future>

using namespace diffplane;
using namespace diffplane::testing;
using namespace std::chrono_literals;

// The native listener of a server with --tls-cert: TLS only, the certificate checked
// by the C++ client (trust and name), and nothing served to a plain connection.
namespace {

std::vector<std::string> tls_server_args(const test_certificate& tls) {
  return server_args(
      create_test_database(),
      {"--native-listen", "127.0.0.1:0", "--tls-cert", tls.cert, "--tls-key", tls.key});
}

struct fixture {
  test_certificate tls = make_test_certificate();
  server_process server{tls_server_args(tls)};
  std::string secret = create_cluster_on(server, "native-tls");

  std::string endpoint(const std::string& scheme = "tls",
                       const std::string& host = "127.0.0.1") const {
    return scheme + "://" + host + ":" + std::to_string(server.native_port());
  }

  client::connect_options trusting() const {
    client::connect_options options;
    options.tls_ca_file = tls.cert;
    options.connect_timeout = 5s;
    return options;
  }

  /// The name of the call_error that connecting to `to` threw; empty when it connected.
  std::string refusal_of(const std::string& to, client::connect_options options,
                         std::string* message = nullptr, std::string api_secret = {}) {
    try {
      client::client::connect(to, api_secret.empty() ? secret : api_secret,
                              std::move(options));
    } catch (const client::call_error& e) {
      if (message != nullptr)
        *message = e.what();
      return e.name();
    }
    return {};
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(native_tls_tests, fixture)

CAF_TEST(a tls caller calls a tls worker) {
  auto worker = client::client::connect(endpoint(), secret, trusting());
  worker->serve("svc",
                {{"add", client::make_handler([](double a, double b) { return a + b; })}},
                4);
  // By name too: the certificate names localhost.
  auto caller = client::client::connect(endpoint("tls", "localhost"), secret, trusting());
  std::vector<std::future<double>> sums;
  for (int i = 0; i < 20; ++i)
    sums.push_back(caller->call<double>("svc", "add", i, 1));
  for (int i = 0; i < 20; ++i) {
    CAF_REQUIRE(sums[i].wait_for(10s) == std::future_status::ready);
    CAF_CHECK_EQUAL(sums[i].get(), i + 1.0);
  }
  // A result larger than one TLS record (16 KiB) arrives whole.
  worker->serve("big", {{"text", client::make_handler([](double n) {
                           return std::string(static_cast<std::size_t>(n), 'x');
                         })}},
                1);
  auto text = caller->call<std::string>("big", "text", 200000.0);
  CAF_REQUIRE(text.wait_for(10s) == std::future_status::ready);
  auto size = text.get().size();
  CAF_CHECK_EQUAL(size, 200000u);
}

CAF_TEST(a client that does not trust the certificate is refused) {
  auto options = trusting();
  options.tls_ca_file.clear(); // the system's store: it does not know this certificate
  std::string message;
  auto refusal = refusal_of(endpoint(), options, &message);
  CAF_CHECK_EQUAL(refusal, "tls_failed");
  CAF_MESSAGE("refused: " << message);
  CAF_CHECK(message.find("certificate") != std::string::npos);
}

CAF_TEST(a certificate for another name is refused) {
  // Trusted, but issued to localhost and 127.0.0.1 only, and served on 127.0.0.2.
  auto args = tls_server_args(tls);
  std::replace(args.begin(), args.end(), std::string{"127.0.0.1:0"},
               std::string{"127.0.0.2:0"});
  server_process elsewhere{args};
  auto other_secret = create_cluster_on(elsewhere, "native-tls-elsewhere");
  std::string message;
  auto to = "tls://127.0.0.2:" + std::to_string(elsewhere.native_port());
  auto refusal = refusal_of(to, trusting(), &message, other_secret);
  CAF_CHECK_EQUAL(refusal, "tls_failed");
  CAF_MESSAGE("refused: " << message);
  CAF_CHECK(message.find("mismatch") != std::string::npos);
}

CAF_TEST(a plain connection is served nothing) {
  auto options = trusting();
  options.connect_timeout = 2s;
  CAF_CHECK(!refusal_of(endpoint("tcp"), options).empty());
  // A hello in the clear: no frame comes back, the connection just ends.
  raw_connection raw{server.native_port()};
  raw.send(protocol::encode(protocol::hello{protocol::version, secret, "raw"}));
  auto answer = raw.read_to_end(5s);
  bool framed =
      answer.size() >= protocol::length_prefix_bytes &&
      protocol::read_length(reinterpret_cast<const unsigned char*>(answer.data())) +
              protocol::length_prefix_bytes ==
          answer.size();
  CAF_CHECK(!framed);
  CAF_CHECK(answer.find(secret) == std::string::npos);
  // The server serves TLS clients as before.
  CAF_CHECK(refusal_of(endpoint(), trusting()).empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
