#define CAF_SUITE native_client_resend

#include <diffplane/client/client.hpp>

#include <caf/test/unit_test.hpp>

#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

using namespace diffplane;

// The client against a scripted server on a loopback port: what it sends after its
// connection breaks, and how a worker answers the jobs pushed to it.
namespace {

/// A listening socket on 127.0.0.1, port chosen by the kernel.
struct fake_server {
  int listener = -1;
  std::uint16_t port = 0;

  explicit fake_server(int backlog = 4) {
    listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener, backlog);
    socklen_t size = sizeof address;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);
    port = ntohs(address.sin_port);
  }

  ~fake_server() { ::close(listener); }

  /// The next connection, with a 10 s receive timeout so a broken test cannot hang.
  int accept_one() const {
    int fd = ::accept(listener, nullptr, nullptr);
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
  }
};

bool read_exact(int fd, char* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    auto n = ::recv(fd, out + done, size - done, 0);
    if (n <= 0)
      return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

/// The next frame's body, skipping pings; empty when the connection ended.
std::string read_frame(int fd) {
  for (;;) {
    unsigned char prefix[protocol::length_prefix_bytes];
    if (!read_exact(fd, reinterpret_cast<char*>(prefix), sizeof prefix))
      return {};
    std::string body(protocol::read_length(prefix), '\0');
    if (!read_exact(fd, body.data(), body.size()))
      return {};
    auto handle = protocol::parse(body.data(), body.size());
    if (protocol::type_of(handle.get()) != protocol::frame_type::ping)
      return body;
  }
}

template <class Frame> Frame next(int fd) {
  auto body = read_frame(fd);
  CAF_REQUIRE(!body.empty());
  auto handle = protocol::parse(body.data(), body.size());
  return protocol::decode<Frame>(handle.get());
}

void send_all(int fd, const std::string& bytes) {
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

/// Reads the hello and answers welcome with the frame limit `max_frame` (and no
/// features unless given: a server older than configure_kind).
void handshake(int fd, std::uint64_t max_frame = 1 << 20,
               std::uint32_t heartbeat_ms = 5000,
               std::vector<std::string> features = {}) {
  auto hello = next<protocol::hello>(fd);
  CAF_CHECK_EQUAL(hello.api_secret, "sk_test");
  send_all(fd, protocol::encode(protocol::welcome{protocol::version, heartbeat_ms,
                                                  max_frame, std::move(features)}));
}

/// Reads frames until the client hangs up, then closes.
void read_until_closed(int fd) {
  while (!read_frame(fd).empty()) {
  }
  ::close(fd);
}

/// A client of `server` with the test secret.
std::shared_ptr<client::client> connect_to(const fake_server& server) {
  return client::client::connect("127.0.0.1:" + std::to_string(server.port), "sk_test");
}

} // namespace

CAF_TEST(call ids are 32 hex digits in creation order) {
  fake_server server;
  std::vector<std::string> ids;
  std::promise<void> three_read;
  std::thread script{[&] {
    int fd = server.accept_one();
    handshake(fd);
    for (int i = 0; i < 3; ++i)
      ids.push_back(next<protocol::call>(fd).call_id);
    three_read.set_value();
    while (!read_frame(fd).empty()) {
    }
    ::close(fd);
  }};
  using namespace std::chrono;
  auto now_ms = [] {
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  };
  auto before = now_ms();
  auto connection = connect_to(server);
  std::vector<std::future<std::string>> jobs; // never answered: closed below
  for (int i = 0; i < 3; ++i) {
    jobs.push_back(connection->background("svc", "f", i));
    std::this_thread::sleep_for(milliseconds{2});
  }
  auto after = now_ms();
  CAF_CHECK(three_read.get_future().wait_for(seconds{10}) == std::future_status::ready);
  connection->close();
  script.join();
  CAF_REQUIRE_EQUAL(ids.size(), 3u);
  for (auto& id : ids) {
    CAF_CHECK_EQUAL(id.size(), 32u);
    CAF_CHECK_EQUAL(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    // The first 12 digits are the call's time in milliseconds.
    auto at = std::stoll(id.substr(0, 12), nullptr, 16);
    CAF_CHECK(at >= before && at <= after);
  }
  CAF_CHECK(ids[0] < ids[1] && ids[1] < ids[2]);
}

CAF_TEST(a call without a result is sent again with its id after a reconnect) {
  fake_server server;
  std::string first_id;
  std::string second_id;
  std::thread script{[&] {
    int first = server.accept_one();
    handshake(first);
    first_id = next<protocol::call>(first).call_id;
    ::close(first); // broken before any answer
    int second = server.accept_one();
    handshake(second);
    second_id = next<protocol::call>(second).call_id;
    send_all(second, protocol::encode(protocol::accepted{second_id, second_id}) +
                         protocol::encode(protocol::result{second_id, second_id,
                                                           "success", "resolution",
                                                           client::pack_value(42)}));
    while (!read_frame(second).empty()) {
    }
    ::close(second);
  }};
  auto connection = connect_to(server);
  auto answer = connection->call<int>("svc", "f", 1);
  CAF_REQUIRE(answer.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  CAF_CHECK_EQUAL(answer.get(), 42);
  CAF_CHECK(!first_id.empty());
  CAF_CHECK_EQUAL(first_id, second_id);
  connection->close();
  script.join();
}

CAF_TEST(configure_kind is sent again with its id after a reconnect) {
  fake_server server;
  protocol::configure_kind first_request;
  protocol::configure_kind second_request;
  std::thread script{[&] {
    std::vector<std::string> features{protocol::feature_configure_kind};
    int first = server.accept_one();
    handshake(first, 1 << 20, 5000, features);
    first_request = next<protocol::configure_kind>(first);
    ::close(first); // broken before the answer
    int second = server.accept_one();
    handshake(second, 1 << 20, 5000, features);
    second_request = next<protocol::configure_kind>(second);
    send_all(second, protocol::encode(protocol::kind_settings{
                         second_request.request_id, "user", 1000, 300000, 30, 60,
                         1700000000000, ""}));
    read_until_closed(second);
  }};
  auto connection = connect_to(server);
  client::kind_settings settings;
  settings.timeout = std::chrono::seconds{30};
  settings.inform_interval = std::chrono::minutes{1};
  auto answer = connection->configure_kind("user", settings);
  CAF_REQUIRE(answer.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  auto status = answer.get();
  CAF_CHECK_EQUAL(status.kind, "user");
  CAF_CHECK_EQUAL(status.timeout.count(), 30);
  CAF_REQUIRE(status.inform_interval.has_value());
  CAF_CHECK_EQUAL(status.inform_interval->count(), 60);
  CAF_REQUIRE(status.last_informed_at.has_value());
  auto informed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         status.last_informed_at->time_since_epoch())
                         .count();
  CAF_CHECK_EQUAL(informed_ms, 1700000000000);
  connection->close();
  script.join();
  CAF_CHECK(!first_request.request_id.empty());
  CAF_CHECK_EQUAL(first_request.request_id, second_request.request_id);
  CAF_CHECK_EQUAL(second_request.kind, "user");
  CAF_CHECK_EQUAL(second_request.settings.timeout_seconds.value, 30);
  CAF_CHECK_EQUAL(second_request.settings.inform_interval_seconds.value, 60);
  CAF_CHECK(!second_request.settings.backoff_base_ms.given);
}

CAF_TEST(configure_kind to a server without the feature fails and sends nothing) {
  fake_server server;
  std::string next_type;
  std::thread script{[&] {
    int fd = server.accept_one();
    handshake(fd); // an older server: its welcome lists no features
    // The frame after the hello is the call: the configure_kind was never sent (the
    // older server would have closed the connection on it).
    auto body = read_frame(fd);
    auto handle = protocol::parse(body.data(), body.size());
    next_type = std::to_string(static_cast<int>(protocol::type_of(handle.get())));
    read_until_closed(fd);
  }};
  auto connection = connect_to(server);
  try {
    connection->configure_kind("user", {}).get();
    CAF_FAIL("configured a kind on a server without the feature");
  } catch (const client::call_error& e) {
    CAF_CHECK_EQUAL(e.name(), "unsupported");
  }
  auto call = connection->call<int>("svc", "f", 1);
  connection->close();
  script.join();
  CAF_CHECK_EQUAL(next_type, "10");
}

CAF_TEST(configure_namespace is sent again with its id after a reconnect) {
  fake_server server;
  protocol::configure_namespace first_request;
  protocol::configure_namespace second_request;
  std::thread script{[&] {
    std::vector<std::string> features{protocol::feature_configure_kind,
                                      protocol::feature_read_kind,
                                      protocol::feature_namespaces};
    int first = server.accept_one();
    handshake(first, 1 << 20, 5000, features);
    first_request = next<protocol::configure_namespace>(first);
    ::close(first); // broken before the answer
    int second = server.accept_one();
    handshake(second, 1 << 20, 5000, features);
    second_request = next<protocol::configure_namespace>(second);
    send_all(second, protocol::encode(protocol::namespace_settings{
                         second_request.request_id, "crm", 5, 3600, 0, 0}));
    read_until_closed(second);
  }};
  auto connection = connect_to(server);
  client::namespace_limits limits;
  limits.max_workers = 5;
  limits.expiry_ttl = std::chrono::hours{1};
  auto answer = connection->configure_namespace("crm", limits);
  CAF_REQUIRE(answer.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  auto got = answer.get();
  CAF_CHECK_EQUAL(got.max_workers.value_or(0), 5);
  CAF_REQUIRE(got.expiry_ttl.has_value());
  CAF_CHECK_EQUAL(got.expiry_ttl->count(), 3600);
  CAF_CHECK(!got.synced_retention.has_value());
  connection->close();
  script.join();
  CAF_CHECK(!first_request.request_id.empty());
  CAF_CHECK_EQUAL(first_request.request_id, second_request.request_id);
  CAF_CHECK_EQUAL(second_request.name, "crm");
  CAF_CHECK_EQUAL(second_request.settings.max_workers.value, 5);
  CAF_CHECK_EQUAL(second_request.settings.expiry_ttl_seconds.value, 3600);
  CAF_CHECK(!second_request.settings.deleted_retention_seconds.given);
}

CAF_TEST(reads of a server that takes configure_kind alone fail and send nothing) {
  fake_server server;
  std::string next_type;
  std::thread script{[&] {
    int fd = server.accept_one();
    // A server of configure_kind, before read_kind and namespaces.
    handshake(fd, 1 << 20, 5000, {protocol::feature_configure_kind});
    auto body = read_frame(fd);
    auto handle = protocol::parse(body.data(), body.size());
    next_type = std::to_string(static_cast<int>(protocol::type_of(handle.get())));
    read_until_closed(fd);
  }};
  auto connection = connect_to(server);
  auto unsupported = [](auto future) {
    try {
      future.get();
    } catch (const client::call_error& e) {
      return std::string{e.name()};
    }
    return std::string{"answered"};
  };
  CAF_CHECK_EQUAL(unsupported(connection->kind_settings("user")), "unsupported");
  CAF_CHECK_EQUAL(unsupported(connection->namespace_settings("crm")), "unsupported");
  CAF_CHECK_EQUAL(unsupported(connection->configure_namespace("crm", {})), "unsupported");
  auto call = connection->call<int>("svc", "f", 1);
  connection->close();
  script.join();
  // The frame after the hello is the call.
  CAF_CHECK_EQUAL(next_type, "10");
}

CAF_TEST(a result that does not decode as the asked type is a decode error) {
  fake_server server;
  std::thread script{[&] {
    int fd = server.accept_one();
    handshake(fd);
    auto call = next<protocol::call>(fd);
    send_all(fd, protocol::encode(
                     protocol::result{call.call_id, call.call_id, "success", "resolution",
                                      client::pack_value(std::string{"x"})}));
    read_until_closed(fd);
  }};
  auto connection = connect_to(server);
  auto answer = connection->call<int>("svc", "f");
  try {
    answer.get();
    CAF_FAIL("a string decoded as an int");
  } catch (const client::call_error& e) {
    CAF_CHECK_EQUAL(e.name(), "DecodeError");
    CAF_MESSAGE(e.what());
  }
  connection->close();
  script.join();
}

CAF_TEST(a result over the server frame limit is a rejection and the connection stays) {
  fake_server server;
  protocol::job_result big;
  protocol::job_result small;
  std::promise<void> seen;
  std::thread script{[&] {
    int fd = server.accept_one();
    handshake(fd, 1024);
    next<protocol::serve>(fd);
    next<protocol::credit>(fd);
    send_all(fd, protocol::encode(protocol::job{
                     "svc", "j1", 1, "echo", client::pack_args(std::string(4000, 'x'))}));
    big = next<protocol::job_result>(fd);
    next<protocol::credit>(fd);
    // The same connection serves the next job.
    send_all(fd, protocol::encode(protocol::job{"svc", "j2", 1, "echo",
                                                client::pack_args(std::string{"ok"})}));
    small = next<protocol::job_result>(fd);
    seen.set_value();
    read_until_closed(fd);
  }};
  auto connection = connect_to(server);
  connection->serve("svc",
                    {{"echo", client::make_handler([](std::string s) { return s; })}}, 1);
  CAF_REQUIRE(seen.get_future().wait_for(std::chrono::seconds{20}) ==
              std::future_status::ready);
  connection->close();
  script.join();
  CAF_CHECK_EQUAL(big.job_id, "j1");
  CAF_CHECK_EQUAL(big.result_type, "rejection");
  std::string message(big.value.begin(), big.value.end());
  CAF_CHECK_NOT_EQUAL(message.find("ResultTooLarge"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(message.find("1024"), std::string::npos);
  CAF_CHECK_EQUAL(small.job_id, "j2");
  CAF_CHECK_EQUAL(small.result_type, "resolution");
}

CAF_TEST(a served job is answered with its result and credit in one write) {
  fake_server server;
  std::vector<std::vector<protocol::frame_type>> reads;
  std::size_t answered = 0;
  std::promise<void> seen;
  std::thread script{[&] {
    int fd = server.accept_one();
    handshake(fd);
    next<protocol::serve>(fd);
    CAF_CHECK_EQUAL(next<protocol::credit>(fd).credits, 4u);
    // One job at a time: the worker's answer to it must come in one recv.
    for (std::uint64_t i = 0; i < 5; ++i) {
      send_all(fd, protocol::encode(protocol::job{"svc", "j" + std::to_string(i), 1,
                                                  "twice", client::pack_args(i)}));
      char chunk[4096];
      auto n = ::recv(fd, chunk, sizeof chunk, 0);
      std::vector<protocol::frame_type> types;
      for (std::size_t at = 0;
           n > 0 && at + protocol::length_prefix_bytes <= static_cast<std::size_t>(n);) {
        auto length = protocol::read_length(reinterpret_cast<unsigned char*>(chunk + at));
        auto handle = protocol::parse(chunk + at + protocol::length_prefix_bytes, length);
        types.push_back(protocol::type_of(handle.get()));
        at += protocol::length_prefix_bytes + length;
      }
      reads.push_back(types);
    }
    // Eight jobs in one write to four worker threads: each is answered once.
    std::string jobs;
    for (std::uint64_t i = 0; i < 8; ++i)
      jobs += protocol::encode(protocol::job{"svc", "k" + std::to_string(i), 1, "twice",
                                             client::pack_args(i)});
    send_all(fd, jobs);
    for (int frames = 0; frames < 16; ++frames) {
      auto body = read_frame(fd);
      if (body.empty())
        break;
      auto handle = protocol::parse(body.data(), body.size());
      if (protocol::type_of(handle.get()) == protocol::frame_type::job_result)
        ++answered;
    }
    seen.set_value();
    read_until_closed(fd);
  }};
  auto connection = connect_to(server);
  connection->serve(
      "svc", {{"twice", client::make_handler([](std::uint64_t n) { return 2 * n; })}}, 4);
  CAF_REQUIRE(seen.get_future().wait_for(std::chrono::seconds{20}) ==
              std::future_status::ready);
  connection->close();
  script.join();
  using protocol::frame_type;
  const std::vector<frame_type> one_write{frame_type::job_result, frame_type::credit};
  CAF_REQUIRE_EQUAL(reads.size(), 5u);
  for (const auto& types : reads)
    CAF_CHECK(types == one_write);
  CAF_CHECK_EQUAL(answered, 8u);
}

CAF_TEST(calls submitted by completions of one read go out in one write) {
  fake_server server;
  std::size_t calls_in_one_read = 0;
  std::promise<void> seen;
  std::thread script{[&] {
    int fd = server.accept_one();
    handshake(fd);
    std::string results;
    for (int i = 0; i < 3; ++i) {
      auto call = next<protocol::call>(fd);
      results += protocol::encode(protocol::result{call.call_id, call.call_id, "success",
                                                   "resolution", client::pack_value(i)});
    }
    // Three results in one write; each completion submits the next call.
    send_all(fd, results);
    char chunk[4096];
    auto n = ::recv(fd, chunk, sizeof chunk, 0);
    for (std::size_t at = 0;
         n > 0 && at + protocol::length_prefix_bytes <= static_cast<std::size_t>(n);) {
      auto length = protocol::read_length(reinterpret_cast<unsigned char*>(chunk + at));
      auto handle = protocol::parse(chunk + at + protocol::length_prefix_bytes, length);
      if (protocol::type_of(handle.get()) == protocol::frame_type::call)
        ++calls_in_one_read;
      at += protocol::length_prefix_bytes + length;
    }
    seen.set_value();
    read_until_closed(fd);
  }};
  auto connection = connect_to(server);
  for (int i = 0; i < 3; ++i)
    connection->submit("svc", "f", client::pack_args(i), {},
                       [connection](client::call_outcome*, std::exception_ptr) {
                         connection->submit(
                             "svc", "next", client::pack_args(0), {},
                             [](client::call_outcome*, std::exception_ptr) {});
                         // Time for a call written at once to reach the server alone.
                         std::this_thread::sleep_for(std::chrono::milliseconds{20});
                       });
  CAF_REQUIRE(seen.get_future().wait_for(std::chrono::seconds{20}) ==
              std::future_status::ready);
  connection->close();
  script.join();
  CAF_CHECK_EQUAL(calls_in_one_read, 3u);
}

CAF_TEST(a write blocked on a silent server does not keep the client from reconnecting) {
  fake_server server;
  // A small receive buffer (inherited by the accepted socket): a 16 MiB call cannot fit.
  int small = 64 * 1024;
  setsockopt(server.listener, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  std::promise<int> stuck;
  std::thread script{[&] {
    int fd = server.accept_one();
    handshake(fd, std::uint64_t{1} << 30, 500);
    stuck.set_value(fd); // read no more, send nothing: a frozen server
    // Later connections are closed at once; the listener's shutdown ends the loop.
    for (int next; (next = ::accept(server.listener, nullptr, nullptr)) >= 0;)
      ::close(next);
  }};
  auto connection = connect_to(server);
  auto frozen = stuck.get_future().get();
  auto writer = std::async(std::launch::async, [&] {
    return connection->call_raw("svc", "f", client::bytes(16 << 20, 'x'));
  });
  // The call's write has begun (its first bytes arrived) and cannot end.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  int queued = 0;
  while (queued < 1024 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
    ioctl(frozen, FIONREAD, &queued);
  }
  CAF_REQUIRE_GREATER_OR_EQUAL(queued, 1024);
  CAF_REQUIRE(writer.wait_for(std::chrono::milliseconds{0}) != std::future_status::ready);
  // Three heartbeats (1.5 s) of silence end the connection all the same.
  while (connection->connected() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  CAF_CHECK(!connection->connected());
  CAF_REQUIRE(writer.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  auto closing = std::async(std::launch::async, [&] { connection->close(); });
  CAF_CHECK(closing.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  auto call = writer.get();
  try {
    call.get();
    CAF_FAIL("a call answered by a frozen server");
  } catch (const client::call_error& e) {
    CAF_CHECK_EQUAL(e.name(), "ClientClosed");
  }
  ::shutdown(server.listener, SHUT_RDWR);
  script.join();
  ::close(frozen);
}

CAF_TEST(a write that a pinging server never reads ends the connection) {
  fake_server server;
  int small = 64 * 1024;
  setsockopt(server.listener, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  std::promise<int> stuck;
  std::atomic<bool> pinging{true};
  std::thread script{[&] {
    int fd = server.accept_one();
    handshake(fd, std::uint64_t{1} << 30, 500);
    stuck.set_value(fd); // reads no more, but pings: the client hears a live server
    for (int next; (next = ::accept(server.listener, nullptr, nullptr)) >= 0;)
      ::close(next);
  }};
  auto connection = connect_to(server);
  auto alive = stuck.get_future().get();
  std::thread pinger{[&] {
    while (pinging) {
      send_all(alive, protocol::encode(protocol::ping{}));
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  }};
  auto started = std::chrono::steady_clock::now();
  auto writer = std::async(std::launch::async, [&] {
    return connection->call_raw("svc", "f", client::bytes(16 << 20, 'x'));
  });
  // Silence never comes, so only the write's own lack of progress (three heartbeats,
  // 1.5 s) can end the connection.
  auto deadline = started + std::chrono::seconds{10};
  while (connection->connected() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  auto took = std::chrono::steady_clock::now() - started;
  CAF_CHECK(!connection->connected());
  CAF_CHECK_GREATER_OR_EQUAL(took, std::chrono::milliseconds{1400});
  CAF_REQUIRE(writer.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  pinging = false;
  pinger.join();
  connection->close();
  try {
    writer.get().get();
    CAF_FAIL("a call answered by a server that never read it");
  } catch (const client::call_error& e) {
    CAF_CHECK_EQUAL(e.name(), "ClientClosed");
  }
  ::shutdown(server.listener, SHUT_RDWR);
  script.join();
  ::close(alive);
}

CAF_TEST(connect gives up at its timeout on a server whose SYNs go unanswered) {
  // A listener with a backlog of 0 and one connection queued drops further SYNs: a
  // blocking connect would wait out the kernel's SYN retries (about two minutes).
  fake_server server{0};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(server.port);
  int queued = ::socket(AF_INET, SOCK_STREAM, 0);
  ::connect(queued, reinterpret_cast<sockaddr*>(&address), sizeof address);
  client::connect_options options;
  options.connect_timeout = std::chrono::seconds{1};
  auto started = std::chrono::steady_clock::now();
  auto attempt = std::async(std::launch::async, [&] {
    try {
      client::client::connect("127.0.0.1:" + std::to_string(server.port), "sk_test",
                              options);
    } catch (const client::call_error& e) {
      return e.name();
    }
    return std::string{"connected"};
  });
  CAF_REQUIRE(attempt.wait_for(std::chrono::seconds{30}) == std::future_status::ready);
  auto took = std::chrono::steady_clock::now() - started;
  CAF_CHECK_EQUAL(attempt.get(), "unavailable");
  CAF_CHECK_LESS(took, std::chrono::seconds{3});
  ::close(queued);
}
