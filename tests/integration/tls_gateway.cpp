#define CAF_SUITE tls_gateway

#include "http_test_helpers.hpp"
#include "metrics_scrape.hpp"
#include "test_certificate.hpp"

#include <caf/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace diffplane;
using namespace diffplane::testing;

namespace {

bool one_line(const std::string& text) {
  auto first = text.find('\n');
  return !text.empty() && (first == std::string::npos || first == text.size() - 1);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::uint16_t port_of(const std::string& endpoint) {
  return static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

/// Opens a TCP connection to 127.0.0.1:`port`, sends `bytes` and returns how many
/// milliseconds passed until the server closed it (-1: still open after `wait`).
long long closed_after(std::uint16_t port, const std::string& bytes,
                       std::chrono::milliseconds wait) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  auto start = std::chrono::steady_clock::now();
  long long result = -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    if (!bytes.empty())
      (void)!write(fd, bytes.data(), bytes.size());
    auto until = start + wait;
    char buffer[4096];
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 100) > 0 && read(fd, buffer, sizeof buffer) <= 0) {
        result = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
        break;
      }
    }
  }
  close(fd);
  return result;
}

std::string message_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

} // namespace

CAF_TEST(tls cert and key go together whatever their source) {
  auto tls = make_test_certificate();
  auto dir = make_temp_dir("diffplane-config");
  std::vector<std::string> serve{"serve", "--dev", "--data-dir", dir};
  auto with = [&](std::vector<std::string> extra) {
    auto args = serve;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  for (const auto& extra : {std::vector<std::string>{"--tls-cert", tls.cert},
                            std::vector<std::string>{"--tls-key", tls.key}}) {
    auto result = run_diffplane(with(extra));
    CAF_CHECK_EQUAL(result.exit_code, 2);
    CAF_CHECK(one_line(result.output));
    CAF_CHECK(contains(result.output, "--tls-cert and --tls-key go together"));
  }
  auto from_environment = run_diffplane(serve, {"DIFFPLANE_TLS_CERT=" + tls.cert});
  CAF_CHECK_EQUAL(from_environment.exit_code, 2);
  CAF_CHECK(contains(from_environment.output, "--tls-key"));
  auto file = dir + "/diffplane.toml";
  std::ofstream{file} << "tls-key = \"" << tls.key << "\"\n";
  auto from_file = run_diffplane(with({"--config", file}));
  CAF_CHECK_EQUAL(from_file.exit_code, 2);
  CAF_CHECK(contains(from_file.output, "--tls-cert"));
  auto both = run_diffplane(with({"--config", file, "--print-config"}),
                            {"DIFFPLANE_TLS_CERT=" + tls.cert});
  CAF_CHECK_EQUAL(both.exit_code, 0);
  CAF_CHECK(contains(both.output, "tls-cert = \"" + tls.cert + "\""));
  CAF_CHECK(contains(both.output, "tls-key = \"" + tls.key + "\""));
  std::filesystem::remove_all(dir);
}

CAF_TEST(a certificate or key that cannot be used stops the server with exit 1) {
  auto tls = make_test_certificate();
  auto other = make_test_certificate();
  auto start = [&](const std::string& cert, const std::string& key) {
    return run_diffplane({"serve", "--listen", "127.0.0.1:0", "--database-url",
                          create_test_database(), "--management-secret",
                          test_management_secret, "--tls-cert", cert, "--tls-key", key});
  };
  auto missing = start("/nonexistent/cert.pem", tls.key);
  CAF_CHECK_EQUAL(missing.exit_code, 1);
  CAF_CHECK(contains(missing.output, "--tls-cert"));
  CAF_CHECK(contains(missing.output, "/nonexistent/cert.pem"));
  auto not_a_key = start(tls.cert, tls.cert);
  CAF_CHECK_EQUAL(not_a_key.exit_code, 1);
  CAF_CHECK(contains(not_a_key.output, "--tls-key"));
  auto mismatched = start(tls.cert, other.key);
  CAF_CHECK_EQUAL(mismatched.exit_code, 1);
  CAF_CHECK(contains(mismatched.output, "--tls-key"));
  CAF_MESSAGE(mismatched.output);
}

CAF_TEST(the gateway speaks only https and a failed handshake costs one connection) {
  auto tls = make_test_certificate();
  server_process server{
      server_args(create_test_database(),
                  {"--tls-cert", tls.cert, "--tls-key", tls.key, "--metrics-listen",
                   "127.0.0.1:0", "--idle-timeout", "2"})};
  CAF_REQUIRE_EQUAL(server.endpoint().rfind("https://127.0.0.1:", 0), 0u);
  auto port = port_of(server.endpoint());
  auto manage = [&](const std::string& method, const std::string& target) {
    return server.client().request(
        method, target, {}, {{"Authorization", "Basic " + test_management_secret}});
  };
  CAF_CHECK_EQUAL(manage("POST", "/clusters").status, 204u);

  // Plain HTTP on the TLS port: no answer, the connection is closed at once.
  auto plain = cli::http_client{"http://127.0.0.1:" + std::to_string(port)};
  CAF_CHECK(!message_of([&] { plain.request("GET", "/live"); }).empty());
  auto plain_closed = closed_after(port, "GET /live HTTP/1.1\r\nHost: x\r\n\r\n",
                                   std::chrono::seconds{5});
  // Well before the idle timeout, with room for a loaded machine.
  CAF_CHECK(plain_closed >= 0 && plain_closed < 1800);
  // A client that never starts its handshake is closed by the idle timeout (2 s).
  auto silent_closed = closed_after(port, "", std::chrono::seconds{10});
  CAF_CHECK(silent_closed >= 1800 && silent_closed < 6000);
  CAF_MESSAGE("plain request closed after " << plain_closed << " ms, silent client after "
                                            << silent_closed << " ms");
  // A client that trusts only the system's certificates refuses ours.
  auto untrusting = cli::http_client{server.endpoint()};
  CAF_CHECK(contains(message_of([&] { untrusting.request("GET", "/live"); }),
                     "certificate verify failed"));

  // The server counts a failed handshake when it sees the failure, which may be after
  // the client gave up: wait for the count a moment.
  auto failed = scrape_metric(server, "diffplane_tls_handshakes_failed_total");
  for (int i = 0; i < 50 && failed.value_or(0) < 4.0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    failed = scrape_metric(server, "diffplane_tls_handshakes_failed_total");
  }
  CAF_REQUIRE(failed.has_value());
  CAF_CHECK_GREATER_OR_EQUAL(*failed, 4.0);
  CAF_CHECK_EQUAL(manage("GET", "/clusters").status, 200u);

  // The CLI reaches an https endpoint with --ca-file or DIFFPLANE_CA_FILE.
  std::vector<std::string> list{"cluster",
                                "list",
                                "--endpoint",
                                server.endpoint(),
                                "--management-secret",
                                test_management_secret};
  auto with_flag = list;
  with_flag.insert(with_flag.end(), {"--ca-file", tls.cert});
  CAF_CHECK_EQUAL(run_diffplane(with_flag).exit_code, 0);
  CAF_CHECK_EQUAL(run_diffplane(list, {"DIFFPLANE_CA_FILE=" + tls.cert}).exit_code, 0);
  auto untrusted = run_diffplane(list);
  CAF_CHECK_EQUAL(untrusted.exit_code, 1);
  CAF_CHECK(contains(untrusted.output, "certificate verify failed"));
}
