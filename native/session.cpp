#include "native/session.hpp"

#include "metrics/catalog.hpp"
#include "native/base64.hpp"
#include "persistence/errors.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace diffplane::native {

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

/// Longest service, function, machine or deployment name (as over HTTP).
constexpr std::size_t max_name_length = 1024;
/// How long a result wait parks in the cluster before it is parked again.
constexpr std::int32_t result_wait_ms = 60000;
/// How long a worker's request for jobs parks in the pool before it is made again.
constexpr std::int32_t jobs_wait_ms = 30000;
/// The most jobs one request to the pool asks for.
constexpr std::uint64_t max_jobs_per_request = 1000;
/// The most credit a service may hold.
constexpr std::uint64_t max_credits = 1000000;
/// Pause before asking the pool again after it refused (overloaded, restarting).
constexpr auto retry_pause = std::chrono::seconds{1};
/// The longest pause between asks of a pool that refuses the service for a limit.
constexpr auto max_retry_pause = std::chrono::seconds{32};
/// The longest pause before a result wait that found no room to park asks again.
constexpr auto max_wait_pause = std::chrono::seconds{16};
/// The most services one connection serves: each is asked for again after a refusal,
/// so their number bounds a connection's timers and requests.
constexpr std::size_t max_services_per_connection = 1000;
/// Bytes one read asks the socket for once authenticated.
constexpr std::size_t read_chunk_bytes = 64 * 1024;
/// Most frames gathered into one write (the kernel takes at most 1024 buffers).
constexpr std::size_t max_frames_per_write = 256;
/// Bytes after which a gathered write takes no further frame: a slow reader completes a
/// write, a sign of life, at least every this many bytes (and one frame).
constexpr std::size_t max_bytes_per_write = 1024 * 1024;
/// Queued bytes above which reading from the client pauses (or a quarter of the bound).
constexpr std::size_t pause_reading_bytes = 1024 * 1024;

std::string text_of(const protocol::bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

protocol::bytes bytes_of(const std::string& text) {
  return protocol::bytes(text.begin(), text.end());
}

/// Empty when `value` is a valid name of `field`, else why not.
std::string check_name(const std::string& value, const char* field) {
  if (value.empty())
    return std::string{field} + " must not be empty";
  if (value.size() > max_name_length)
    return std::string{field} + " is longer than " + std::to_string(max_name_length) +
           " characters";
  return {};
}

} // namespace

session::session(std::shared_ptr<asio::io_context> io, asio::ip::tcp::socket socket,
                 asio::ssl::context* tls, const native_server_options& options,
                 gateway::actor_bridge& bridge, gateway::connection_slot slot)
    : io_(std::move(io)), executor_(socket.get_executor()),
      stream_(std::move(socket), tls), options_(options), bridge_(bridge),
      slot_(std::move(slot)), heartbeat_timer_(executor_) {
  boost::system::error_code ec;
  auto remote = stream_.socket().remote_endpoint(ec);
  if (!ec)
    ip_ = remote.address().to_string();
  stream_.socket().set_option(asio::ip::tcp::no_delay{true}, ec);
}

void session::start() {
  started_ = last_received_ = last_sent_ = last_written_ = clock_type::now();
  arm_heartbeat();
  stream_.async_handshake([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_) {
      if (ec)
        spdlog::debug("event=native_tls_handshake_failed remote={} reason=\"{}\"",
                      self->ip_, ec.message());
      return self->close();
    }
    self->handshaken_ = true;
    self->read_more();
  });
}

void session::refuse(std::string code, std::string message) {
  started_ = last_received_ = last_sent_ = last_written_ = clock_type::now();
  handshaken_ = true;
  closing_ = true;
  send_error("", std::move(code), std::move(message));
  // The write closes the connection; a client that does not read is not waited for
  // beyond the handshake timeout (arm_heartbeat).
  arm_heartbeat();
}

void session::close() {
  if (closed_)
    return;
  closed_ = true;
  heartbeat_timer_.cancel();
  stream_.close();
  // The jobs this connection was given stall now rather than when the machine is found
  // silent (docs/native-protocol.md).
  if (authenticated_ && !machine_id_.empty())
    bridge_.machine_gone(cluster_, machine_id_);
}

void session::read_more() {
  if (closing_ || closed_)
    return;
  // What the handled frames asked for waits in the outbox until the client reads it:
  // no more is read (the client's writes back up in TCP) until write_next drains it.
  if (authenticated_ && outbox_full()) {
    reading_paused_ = true;
    spdlog::debug("event=native_reading_paused ip={} queued_bytes={}", ip_,
                  outbox_bytes_);
    return;
  }
  if (in_begin_ == in_end_)
    in_begin_ = in_end_ = 0;
  // Before the hello a read takes at most one largest hello; after it a chunk, or the
  // rest of a frame whose announced length was already checked against the limit.
  auto chunk = authenticated_
                   ? read_chunk_bytes
                   : protocol::hello_frame_limit + protocol::length_prefix_bytes;
  if (in_begin_ == 0 && in_end_ == 0 && in_.size() > read_chunk_bytes)
    in_ = std::vector<char>(chunk); // a large frame's room is given back
  if (in_.size() < chunk)
    in_.resize(chunk);
  if (in_end_ == in_.size() && in_begin_ > 0) {
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  stream_.async_read_some(
      asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
      [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        if (ec || self->closed_)
          return self->close();
        self->in_end_ += n;
        self->last_received_ = clock_type::now();
        self->handle_input();
      });
}

void session::handle_input() {
  // The requests the frames of this read make reach the actors as one message.
  gateway::bridge_batch batch{bridge_};
  while (!closing_ && !closed_) {
    auto have = in_end_ - in_begin_;
    if (have < protocol::length_prefix_bytes)
      break;
    auto* at = in_.data() + in_begin_;
    auto length = protocol::read_length(reinterpret_cast<const unsigned char*>(at));
    auto limit = authenticated_ ? options_.max_frame : protocol::hello_frame_limit;
    // Checked before anything is allocated for the body.
    if (length == 0 || length > limit)
      return fail("frame_too_large", "a frame of " + std::to_string(length) +
                                         " bytes; at most " + std::to_string(limit) +
                                         " are accepted now");
    auto frame_bytes = protocol::length_prefix_bytes + length;
    if (have < frame_bytes) {
      // Room for the whole frame, its start moved to the front.
      if (in_.size() - in_begin_ < frame_bytes) {
        std::memmove(in_.data(), at, have);
        in_begin_ = 0;
        in_end_ = have;
        if (in_.size() < frame_bytes)
          in_.resize(frame_bytes);
      }
      break;
    }
    in_begin_ += frame_bytes;
    try {
      auto handle = protocol::parse(at + protocol::length_prefix_bytes, length);
      dispatch(handle.get());
    } catch (const protocol::protocol_error& e) {
      return fail(e.code(), e.what());
    }
    // Nothing more is handled nor read while the hello is being checked: the welcome
    // resumes here.
    if (!authenticated_)
      return;
  }
  for (const auto& service : std::exchange(credited_, {}))
    request_jobs(service);
  read_more();
}

void session::dispatch(const msgpack::object& body) {
  using protocol::frame_type;
  auto type = protocol::type_of(body);
  if (!authenticated_) {
    if (type != frame_type::hello)
      throw protocol::protocol_error("not_authenticated",
                                     "the first frame must be a hello");
    return on_hello(protocol::decode<protocol::hello>(body));
  }
  switch (type) {
  case frame_type::ping:
    return;
  case frame_type::call:
    return on_call(protocol::decode<protocol::call>(body));
  case frame_type::serve:
    return on_serve(protocol::decode<protocol::serve>(body));
  case frame_type::credit:
    return on_credit(protocol::decode<protocol::credit>(body));
  case frame_type::job_result:
    return on_job_result(protocol::decode<protocol::job_result>(body));
  case frame_type::configure_kind:
    return on_configure_kind(protocol::decode<protocol::configure_kind>(body));
  case frame_type::read_kind:
    return on_read_kind(protocol::decode<protocol::read_kind>(body));
  case frame_type::configure_namespace:
    return on_configure_namespace(protocol::decode<protocol::configure_namespace>(body));
  case frame_type::read_namespace:
    return on_read_namespace(protocol::decode<protocol::read_namespace>(body));
  default:
    throw protocol::protocol_error(
        "bad_frame", "frame type " + std::to_string(static_cast<int>(type)) +
                         " is not one a client sends");
  }
}

void session::on_hello(protocol::hello hello) {
  if (hello.version != protocol::version)
    throw protocol::protocol_error("unsupported_version",
                                   "protocol version " + std::to_string(hello.version) +
                                       " is not supported; this server speaks version " +
                                       std::to_string(protocol::version));
  bridge_.authenticate(
      hello.api_secret,
      [self = shared_from_this()](gateway::outcome<gateway::cluster_ref> result) {
        self->on_io_thread([self, result = std::move(result)]() mutable {
          if (!result.ok()) {
            auto code = result.error.code == error_code::unauthorized
                            ? std::string{"unauthorized"}
                            : std::string{to_string(result.error.code)};
            return self->fail(code, result.error.message);
          }
          self->cluster_ = std::move(*result.value);
          self->authenticated_ = true;
          protocol::welcome welcome;
          welcome.heartbeat_ms =
              static_cast<std::uint32_t>(self->options_.heartbeat.count());
          welcome.max_frame = self->options_.max_frame;
          welcome.features = {protocol::feature_configure_kind,
                              protocol::feature_read_kind, protocol::feature_namespaces};
          self->send(protocol::encode(welcome));
          self->handle_input();
        });
      });
}

void session::on_call(protocol::call call) {
  const auto& o = call.options;
  std::string problem;
  if (call.call_id.empty() || call.call_id.size() > protocol::max_call_id_length)
    problem = "call_id must have 1 to " + std::to_string(protocol::max_call_id_length) +
              " characters";
  else if (call.call_id.find('/') != std::string::npos)
    problem = "call_id must not contain '/'";
  else if (problem = check_name(call.service, "service"); !problem.empty())
    ;
  else if (problem = check_name(call.fn, "fn"); !problem.empty())
    ;
  else if (o.retries > 1000)
    problem = "options.retries must be at most 1000";
  else if (o.timeout_seconds < 1 || o.timeout_seconds > 7 * 24 * 3600)
    problem = "options.timeout_seconds must be 1 to 604800";
  else if (o.cache_key.size() > max_name_length)
    problem = "options.cache_key is too long";
  if (!problem.empty())
    return send_error(call.call_id, "bad_request", problem);
  // Each call waiting for its result parks a waiter in the cluster, or, when the
  // cluster has no room, asks again after a pause: a connection waits for at most as
  // many as its cluster can park.
  if (!o.background && waiting_calls_ >= options_.max_waiting_calls)
    return send_error(
        call.call_id, "limit_reached",
        "this connection has " + std::to_string(waiting_calls_) +
            " calls waiting for their results, as many as its cluster can park "
            "(--max-parked-polls-per-cluster); send more as they are answered, or call "
            "in the background");
  if (!o.background)
    ++waiting_calls_;
  create_job_request request;
  request.service = std::move(call.service);
  request.target_fn = std::move(call.fn);
  request.target_args = base64_encode(text_of(call.args));
  request.cache_key = o.cache_key;
  request.cache_ttl_seconds = static_cast<std::int32_t>(
      std::min<std::uint32_t>(o.cache_ttl_seconds, 365 * 24 * 3600));
  request.retry_count_on_stall = static_cast<std::int32_t>(o.retries);
  request.predictive_retries_on_rejection = o.predictive_retries;
  request.timeout_seconds = static_cast<std::int32_t>(o.timeout_seconds);
  request.execution_id = call.call_id;
  request.background = o.background;
  request.durable = o.durable;
  bridge_.create_job(
      cluster_, std::move(request),
      [self = shared_from_this(), call_id = call.call_id, background = o.background,
       posted = !o.committed_result](gateway::outcome<std::string> created) {
        bool wait = created.ok() && !background;
        auto job_id = created.ok() ? *created.value : std::string{};
        self->on_io_thread([self, call_id, background, created = std::move(created)] {
          if (!created.ok()) {
            if (!background)
              self->end_wait();
            return self->send_error(call_id, std::string{to_string(created.error.code)},
                                    created.error.message);
          }
          self->send(protocol::encode(protocol::accepted{call_id, *created.value}));
        });
        // Parked from here, the bridge's thread, after the accepted was posted (so the
        // result is posted after it): not by way of the I/O thread and back.
        if (wait)
          self->await_result(call_id, job_id, posted, retry_pause);
      });
}

void session::end_wait() {
  if (waiting_calls_ > 0)
    --waiting_calls_;
}

void session::await_result(std::string call_id, std::string job_id, bool posted,
                           std::chrono::milliseconds pause) {
  // A waiter parked in the cluster is answered the moment the job finishes, or its
  // result is posted (cluster_waiters.cpp); one that outlives its ttl is parked again.
  // Called on the I/O thread or the bridge's: it reads only cluster_, which is set once
  // before any call.
  status_request wait{{job_id}, result_wait_ms, true};
  auto asked = clock_type::now();
  auto answered = [self = shared_from_this(), call_id = std::move(call_id), job_id, asked,
                   posted, pause](gateway::outcome<std::vector<job_status_row>> rows) {
    self->on_io_thread([self, call_id, job_id, asked, posted, pause,
                        rows = std::move(rows)] {
      // Asks again after `pause`, the next time after twice as long: a cluster that
      // stays out of room (or unavailable) is asked ever more rarely by its waits.
      auto await_later = [&] {
        auto next = std::min<std::chrono::milliseconds>(2 * pause, max_wait_pause);
        auto timer = std::make_shared<asio::steady_timer>(self->executor_, pause);
        timer->async_wait(
            [self, timer, call_id, job_id, posted, next](boost::system::error_code) {
              if (!self->closed_)
                self->await_result(call_id, job_id, posted, next);
            });
      };
      // The cluster cannot answer for now (restarting after a crash, or moving between
      // nodes): the call is not failed by that, its wait is parked again after a pause.
      if (!rows.ok() && rows.error.code == error_code::unavailable)
        return await_later();
      if (!rows.ok()) {
        self->end_wait();
        return self->send_error(call_id, std::string{to_string(rows.error.code)},
                                rows.error.message);
      }
      const auto& row = rows.value->front();
      if (!is_terminal(row.status)) {
        // An unfinished answer well before the ttl means the cluster had no room
        // to park the waiter (--max-parked-polls): pause rather than spin.
        if (clock_type::now() - asked >= std::chrono::milliseconds{result_wait_ms / 2})
          return self->await_result(call_id, job_id, posted, retry_pause);
        return await_later();
      }
      self->end_wait();
      auto value = base64_decode(row.result);
      if (!value)
        return self->send_error(call_id, "internal",
                                "the stored result of " + job_id + " is not base64");
      self->send(protocol::encode(
          protocol::result{call_id, job_id, std::string{to_string(row.status)},
                           std::string{to_string(row.result_type)}, bytes_of(*value)}));
    });
  };
  if (posted)
    bridge_.posted_results(cluster_, std::move(wait), std::move(answered));
  else
    bridge_.job_statuses(cluster_, std::move(wait), std::move(answered));
}

void session::on_serve(protocol::serve serve) {
  auto problem = check_name(serve.service, "service");
  if (problem.empty())
    problem = check_name(serve.machine_id, "machine_id");
  if (problem.empty() && serve.deployment_id.size() > max_name_length)
    problem = "deployment_id is too long";
  if (problem.empty() && !machine_id_.empty() && serve.machine_id != machine_id_)
    problem = "one connection is one machine: machine_id must stay " + machine_id_;
  if (problem.empty() && services_.size() >= max_services_per_connection &&
      !services_.contains(serve.service))
    problem = "one connection serves at most " +
              std::to_string(max_services_per_connection) + " services";
  if (problem.empty())
    for (const auto& fn : serve.functions)
      if (problem = check_name(fn, "functions[]"); !problem.empty())
        break;
  if (!problem.empty())
    return send_error(serve.service, "bad_request", problem);
  machine_id_ = serve.machine_id;
  deployment_id_ = serve.deployment_id;
  services_[serve.service].functions = std::move(serve.functions);
  request_jobs(serve.service);
}

void session::on_credit(protocol::credit credit) {
  auto it = services_.find(credit.service);
  if (it == services_.end())
    return send_error(credit.service, "bad_request",
                      "credit for service '" + credit.service + "', which is not served");
  it->second.credits = std::min(it->second.credits + credit.credits, max_credits);
  // Asked for once the frames of this read are handled: the credits of many results
  // read at once make one request to the pool, not one each.
  if (std::find(credited_.begin(), credited_.end(), credit.service) == credited_.end())
    credited_.push_back(credit.service);
}

void session::request_jobs(const std::string& service) {
  auto& served = services_[service];
  if (served.credits <= served.requested)
    return;
  auto want = std::min(served.credits - served.requested, max_jobs_per_request);
  served.requested += want;
  jobs_request request;
  request.service = service;
  request.limit = static_cast<std::int32_t>(want);
  request.ttl_ms = jobs_wait_ms;
  request.machine_id = machine_id_;
  request.deployment_id = deployment_id_;
  request.ip = ip_;
  request.announces_functions = true;
  request.functions = served.functions;
  // The request parks in the pool as a waiting consumer and is answered the moment a
  // job is pending: the jobs are pushed to the connection, never polled for.
  bridge_.request_jobs(
      cluster_, std::move(request),
      [self = shared_from_this(), service,
       want](gateway::outcome<std::vector<dispatched_job>> jobs) {
        asio::post(
            self->executor_, [self, service, want, jobs = std::move(jobs)]() mutable {
              auto& served = self->services_[service];
              served.requested -= std::min(served.requested, want);
              if (self->closed_) {
                // Handed over as the connection closed: they stall with the machine.
                if (jobs.ok() && !jobs.value->empty())
                  self->bridge_.machine_gone(self->cluster_, self->machine_id_);
                return;
              }
              if (!jobs.ok()) {
                self->send_error(service, std::string{to_string(jobs.error.code)},
                                 jobs.error.message);
                auto pause = served.retry_pause;
                if (jobs.error.code == error_code::limit_reached)
                  served.retry_pause = std::min<std::chrono::milliseconds>(
                      2 * served.retry_pause, max_retry_pause);
                auto timer = std::make_shared<asio::steady_timer>(self->executor_, pause);
                timer->async_wait([self, timer, service](boost::system::error_code) {
                  if (!self->closed_)
                    self->request_jobs(service);
                });
                return;
              }
              served.retry_pause = retry_pause;
              for (auto& job : *jobs.value) {
                served.credits -= std::min<std::uint64_t>(served.credits, 1);
                self->send(protocol::encode(protocol::job{
                    service, std::move(job.id), static_cast<std::uint32_t>(job.attempt),
                    std::move(job.target_fn),
                    bytes_of(base64_decode(job.target_args).value_or(std::string{}))}));
              }
              self->request_jobs(service);
            });
      });
}

void session::on_job_result(protocol::job_result result) {
  if (machine_id_.empty())
    return send_error(result.job_id, "bad_request",
                      "a job_result on a connection that serves nothing");
  job_result_post post;
  if (!parse(result.result_type, post.type) || post.type == result_kind::none)
    return send_error(result.job_id, "bad_request",
                      "result_type must be resolution or rejection");
  post.job_id = result.job_id;
  post.machine_id = machine_id_;
  post.deployment_id = deployment_id_;
  post.ip = ip_;
  post.result = base64_encode(text_of(result.value));
  post.function_execution_time_ms = result.execution_ms;
  post.attempt = static_cast<std::int32_t>(result.attempt);
  bridge_.post_result(
      cluster_, std::move(post),
      [self = shared_from_this(), job_id = result.job_id](gateway::outcome<bool> posted) {
        if (posted.ok())
          return;
        self->on_io_thread([self, job_id, posted = std::move(posted)] {
          self->send_error(job_id, std::string{to_string(posted.error.code)},
                           posted.error.message);
        });
      });
}

void session::send_error(std::string ref, std::string code, std::string message) {
  send(protocol::encode(
      protocol::error{std::move(ref), std::move(code), std::move(message)}));
}

void session::fail(std::string code, std::string message) {
  if (closing_ || closed_)
    return;
  spdlog::info("event=native_connection_refused ip={} code={} reason=\"{}\"", ip_, code,
               message);
  send_error("", std::move(code), std::move(message));
  closing_ = true;
}

bool session::outbox_full() const {
  return outbox_bytes_ > std::min(pause_reading_bytes, options_.max_outbox_bytes / 4);
}

void session::send(std::string frame) {
  if (closed_)
    return;
  // Reading paused long before this: what still comes are the results and jobs of
  // calls and credits already taken, which the client is not reading.
  if (outbox_bytes_ + frame.size() > options_.max_outbox_bytes) {
    metrics::native_slow_consumers().add();
    spdlog::info("event=native_slow_consumer ip={} queued_bytes={} frames={} max={}", ip_,
                 outbox_bytes_, outbox_.size(), options_.max_outbox_bytes);
    return close();
  }
  outbox_bytes_ += frame.size();
  outbox_.push_back(std::move(frame));
  last_sent_ = clock_type::now();
  if (writing_ || write_posted_)
    return;
  // Frames sent by the handlers queued before this one (results, pushed jobs, answers
  // to a batch of frames) go out in the same write: one syscall, fewer segments.
  write_posted_ = true;
  asio::post(executor_, [self = shared_from_this()] {
    self->write_posted_ = false;
    if (!self->closed_ && !self->writing_)
      self->write_next();
  });
}

void session::write_next() {
  // The frames of the finished write leave the queue.
  for (std::size_t i = 0; i < in_write_; ++i)
    outbox_bytes_ -= outbox_[i].size();
  outbox_.erase(outbox_.begin(),
                outbox_.begin() + static_cast<std::ptrdiff_t>(in_write_));
  in_write_ = 0;
  if (reading_paused_ && !outbox_full()) {
    reading_paused_ = false;
    read_more();
  }
  if (outbox_.empty()) {
    writing_ = false;
    if (closing_)
      close();
    return;
  }
  writing_ = true;
  write_buffers_.clear();
  std::size_t bytes = 0;
  while (in_write_ < outbox_.size() && in_write_ < max_frames_per_write &&
         bytes < max_bytes_per_write) {
    bytes += outbox_[in_write_].size();
    write_buffers_.push_back(asio::buffer(outbox_[in_write_++]));
  }
  stream_.async_write(write_buffers_, [self = shared_from_this()](
                                          boost::system::error_code ec, std::size_t) {
    if (ec || self->closed_)
      return self->close();
    self->last_written_ = clock_type::now();
    self->write_next();
  });
}

void session::arm_heartbeat() {
  auto interval = authenticated_ ? options_.heartbeat / 2 : options_.handshake_timeout;
  heartbeat_timer_.expires_after(interval);
  heartbeat_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_)
      return;
    auto now = clock_type::now();
    if (self->closing_)
      // A client that does not read its error frame is not waited for.
      return self->close();
    if (!self->authenticated_) {
      if (now - self->started_ >= self->options_.handshake_timeout) {
        // Without a TLS session there is no way to say why.
        if (!self->handshaken_)
          return self->close();
        return self->fail("handshake_timeout", "no hello within the handshake timeout");
      }
    } else if (now - self->last_heard_from() > 3 * self->options_.heartbeat) {
      return self->fail("heartbeat_timeout",
                        self->reading_paused_
                            ? "nothing read by the client for three heartbeats"
                            : "nothing received for three heartbeats");
    } else {
      if (now - self->last_sent_ >= self->options_.heartbeat / 2)
        self->send(protocol::encode(protocol::ping{}));
      // A worker busy with all its credit spent has no request for jobs parked, the
      // cluster's other sign of life: without this it would stall after
      // --machine-stall-seconds.
      if (!self->machine_id_.empty())
        self->bridge_.machine_alive(self->cluster_, self->machine_id_);
    }
    self->arm_heartbeat();
  });
}

} // namespace diffplane::native
