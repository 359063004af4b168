#include "transport.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace diffplane::client {

namespace {

using clock_type = std::chrono::steady_clock;

/// How long one wait of a dial lasts at most before it looks at `stopping` again.
constexpr int dial_slice_ms = 100;

int milliseconds_until(clock_type::time_point deadline);

/// Waits for `events` on `fd` in slices until `deadline` or `stopping`; false then.
bool wait_until(int fd, short events, clock_type::time_point deadline,
                const std::atomic<bool>& stopping) {
  while (!stopping) {
    auto left = milliseconds_until(deadline);
    if (left == 0)
      return false;
    pollfd p{fd, events, 0};
    if (::poll(&p, 1, std::min(left, dial_slice_ms)) > 0)
      return true;
  }
  return false;
}

/// A connected, non-blocking TCP socket, or -1. Bounded by `deadline` and `stopping`: a
/// blocking connect to an address that drops SYNs waits minutes.
int dial_tcp(const std::string& host, const std::string& port,
             clock_type::time_point deadline, const std::atomic<bool>& stopping) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0)
    return -1;
  int fd = -1;
  for (auto* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                  a->ai_protocol);
    if (fd < 0)
      continue;
    bool connected = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    if (!connected && errno == EINPROGRESS &&
        wait_until(fd, POLLOUT, deadline, stopping)) {
      int failure = 0;
      socklen_t size = sizeof failure;
      connected =
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &size) == 0 && failure == 0;
    }
    if (!connected) {
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

bool is_ip_literal(const std::string& host) {
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), address) == 1 ||
         inet_pton(AF_INET6, host.c_str(), address) == 1;
}

/// OpenSSL's queued errors as one line (and the queue emptied).
std::string openssl_errors() {
  std::string text;
  while (auto code = ERR_get_error()) {
    char line[256];
    ERR_error_string_n(code, line, sizeof line);
    if (!text.empty())
      text += "; ";
    text += line;
  }
  return text;
}

/// Keeps a write to a closed connection from raising SIGPIPE in this thread, which
/// would end the process: OpenSSL writes with write(2), which has no MSG_NOSIGNAL. A
/// SIGPIPE the write raised is taken back before the thread's signal mask is restored.
class no_sigpipe {
public:
  no_sigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~no_sigpipe() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec now{};
        sigtimedwait(&pipe_, nullptr, &now);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  no_sigpipe(const no_sigpipe&) = delete;
  no_sigpipe& operator=(const no_sigpipe&) = delete;

private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

int milliseconds_until(clock_type::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 0, INT_MAX));
}

/// A client context trusting `ca_file` (or the system's store) for TLS 1.2 and later.
SSL_CTX* client_context(const tls_settings& tls, std::string& error) {
  auto* context = SSL_CTX_new(TLS_client_method());
  if (context == nullptr) {
    error = "cannot make a TLS context: " + openssl_errors();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_mode(context,
                   SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  bool trusted =
      tls.ca_file.empty()
          ? SSL_CTX_set_default_verify_paths(context) == 1
          : SSL_CTX_load_verify_locations(context, tls.ca_file.c_str(), nullptr) == 1;
  if (!trusted) {
    error = "cannot read the trusted certificates" +
            (tls.ca_file.empty() ? std::string{} : " of '" + tls.ca_file + "'") + ": " +
            openssl_errors();
    SSL_CTX_free(context);
    return nullptr;
  }
  return context;
}

} // namespace

std::unique_ptr<transport>
transport::dial(const std::string& host, const std::string& port, const tls_settings& tls,
                clock_type::time_point deadline, const std::atomic<bool>& stopping,
                std::string& error, bool& tls_refused) {
  tls_refused = false;
  int fd = dial_tcp(host, port, deadline, stopping);
  if (fd < 0) {
    error = "cannot connect to " + host + ":" + port;
    return nullptr;
  }
  if (!tls.enabled) {
    // Blocking again: reads wait in poll() first, and writes ask not to block.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return std::unique_ptr<transport>(new transport(fd, nullptr, nullptr));
  }
  auto* context = client_context(tls, error);
  if (context == nullptr) {
    ::close(fd);
    tls_refused = true;
    return nullptr;
  }
  // Non-blocking stays: reads wait in poll() without holding the session.
  auto* ssl = SSL_new(context);
  std::unique_ptr<transport> stream(new transport(fd, context, ssl));
  SSL_set_fd(ssl, fd);
  auto* verify = SSL_get0_param(ssl);
  if (is_ip_literal(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(verify, host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, host.c_str());
    X509_VERIFY_PARAM_set1_host(verify, host.c_str(), 0);
  }
  while (true) {
    ERR_clear_error();
    int done;
    {
      no_sigpipe quiet;
      done = SSL_connect(ssl);
    }
    if (done == 1)
      return stream;
    auto why = SSL_get_error(ssl, done);
    short events = why == SSL_ERROR_WANT_READ    ? POLLIN
                   : why == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                 : 0;
    if (events == 0) {
      auto verdict = SSL_get_verify_result(ssl);
      auto reason =
          verdict != X509_V_OK
              ? "certificate: " + std::string{X509_verify_cert_error_string(verdict)}
              : openssl_errors();
      if (reason.empty())
        reason = "the server closed the connection (does it speak TLS?)";
      error = "TLS handshake with " + host + ":" + port + " failed: " + reason;
      tls_refused = true;
      return nullptr;
    }
    if (!wait_until(fd, events, deadline, stopping)) {
      error = "TLS handshake with " + host + ":" + port + " timed out";
      return nullptr;
    }
  }
}

transport::transport(int fd, SSL_CTX* context, SSL* ssl)
    : fd_(fd), context_(context), ssl_(ssl) {}

transport::~transport() {
  if (ssl_ != nullptr)
    SSL_free(ssl_);
  if (context_ != nullptr)
    SSL_CTX_free(context_);
  ::close(fd_);
}

bool transport::wait_for(short events, int timeout_ms) const {
  pollfd p{fd_, events, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

bool transport::write_all(const std::string& data, std::chrono::milliseconds stall_limit) {
  std::size_t done = 0;
  // Moves on with every byte written: a slow reader is waited for, a stopped one is not.
  auto give_up_at = clock_type::now() + stall_limit;
  while (done < data.size()) {
    if (ssl_ == nullptr) {
      auto n = ::send(fd_, data.data() + done, data.size() - done,
                      MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        give_up_at = clock_type::now() + stall_limit;
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        return false;
      // A full socket buffer (shutdown() ends the wait).
      if (!wait_for(POLLOUT, milliseconds_until(give_up_at)))
        return false;
      continue;
    }
    int n = 0;
    int why = SSL_ERROR_NONE;
    {
      std::lock_guard lock{ssl_mutex_};
      no_sigpipe quiet;
      ERR_clear_error();
      n = SSL_write(ssl_, data.data() + done,
                    static_cast<int>(std::min<std::size_t>(data.size() - done, INT_MAX)));
      if (n <= 0)
        why = SSL_get_error(ssl_, n);
    }
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      give_up_at = clock_type::now() + stall_limit;
      continue;
    }
    if (clock_type::now() >= give_up_at)
      return false;
    // A full socket buffer: wait for room (shutdown() ends the wait). Wanting to read (a
    // TLS 1.3 key update) is the reader's to serve: try again soon.
    if (why == SSL_ERROR_WANT_WRITE)
      wait_for(POLLOUT, milliseconds_until(give_up_at));
    else if (why == SSL_ERROR_WANT_READ)
      wait_for(POLLIN, 10);
    else
      return false;
  }
  return true;
}

long transport::read_some(char* into, std::size_t size,
                          std::chrono::milliseconds timeout) {
  auto timeout_ms = static_cast<int>(timeout.count());
  if (ssl_ == nullptr) {
    if (!wait_for(POLLIN, timeout_ms))
      return 0;
    auto n = ::recv(fd_, into, size, 0);
    if (n < 0 && errno == EINTR)
      return 0;
    return n > 0 ? static_cast<long>(n) : -1;
  }
  bool buffered;
  {
    std::lock_guard lock{ssl_mutex_};
    buffered = SSL_pending(ssl_) > 0;
  }
  // Bytes OpenSSL holds already are not seen by poll().
  if (!buffered && !wait_for(POLLIN, timeout_ms))
    return 0;
  std::lock_guard lock{ssl_mutex_};
  no_sigpipe quiet;
  ERR_clear_error();
  auto n = SSL_read(ssl_, into, static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
  if (n > 0)
    return n;
  auto why = SSL_get_error(ssl_, n);
  // Part of a record, or a handshake message with no data: nothing yet.
  return why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

void transport::shutdown() {
  ::shutdown(fd_, SHUT_RDWR);
}

} // namespace diffplane::client
