#include "connection.hpp"

#include "call_ids.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace diffplane::client {

namespace {

using clock_type = std::chrono::steady_clock;

/// Backoff of the first reconnection attempt; it doubles up to max_backoff.
constexpr auto initial_backoff = std::chrono::milliseconds{100};
/// How long the server may take to answer a hello.
constexpr auto handshake_timeout = std::chrono::seconds{10};

/// What a request ends with on a server older than its frame.
std::exception_ptr unsupported_error(const std::string& feature) {
  return std::make_exception_ptr(
      call_error("unsupported", "the server does not take " + feature +
                                    " (its welcome does not list it): it is older than "
                                    "this client"));
}

/// The request id of an answer to a settings request (its first field); empty when it
/// has none.
std::string request_id_of(const msgpack::object& body) {
  if (body.via.array.size < 2 || body.via.array.ptr[1].type != msgpack::type::STR)
    return {};
  const auto& id = body.via.array.ptr[1].via.str;
  return std::string{id.ptr, id.size};
}

/// The longest a wait of the I/O thread lasts before it looks at whether it must stop.
constexpr auto stop_check = std::chrono::milliseconds{100};

/// Reads exactly `size` bytes before `deadline`; false on timeout, close, error or
/// `stopping`.
bool read_exact(transport& stream, char* out, std::size_t size,
                clock_type::time_point deadline, const std::atomic<bool>& stopping) {
  std::size_t done = 0;
  while (done < size) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                      clock_type::now());
    if (left.count() <= 0 || stopping)
      return false;
    auto n = stream.read_some(out + done, size - done, std::min(left, stop_check));
    if (n < 0)
      return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

} // namespace

connection::connection(std::string host, std::string port, std::string api_secret,
                       connect_options options, tls_settings tls)
    : host_(std::move(host)), port_(std::move(port)), api_secret_(std::move(api_secret)),
      options_(std::move(options)), tls_(std::move(tls)),
      machine_id_("cpp-" + random_hex(16)) {}

connection::~connection() {
  close();
}

void connection::start() {
  auto first = first_.get_future();
  io_ = std::thread{[this] { run(); }};
  if (first.wait_for(options_.connect_timeout) != std::future_status::ready) {
    close();
    throw call_error("unavailable", "no answer from " + host_ + ":" + port_ + " within " +
                                        std::to_string(options_.connect_timeout.count()) +
                                        " ms");
  }
  try {
    first.get();
  } catch (...) {
    close();
    throw;
  }
}

void connection::fail_first(std::exception_ptr error) {
  if (first_done_)
    return;
  first_done_ = true;
  first_.set_exception(error);
  stopping_ = true;
}

void connection::run() {
  io_id_ = std::this_thread::get_id();
  auto backoff = initial_backoff;
  bool first = true;
  while (!stopping_) {
    std::string error;
    bool tls_refused = false;
    auto stream =
        transport::dial(host_, port_, tls_, clock_type::now() + handshake_timeout,
                        stopping_, error, tls_refused);
    if (!stream) {
      if (first)
        return fail_first(std::make_exception_ptr(
            call_error(tls_refused ? "tls_failed" : "unavailable", error)));
    } else {
      session(*stream, first);
      if (first_done_)
        backoff = initial_backoff;
    }
    first = false;
    if (stopping_)
      break;
    // In slices: close() does not wait out a long backoff.
    for (auto until = clock_type::now() + backoff;
         !stopping_ && clock_type::now() < until;)
      std::this_thread::sleep_for(
          std::min<clock_type::duration>(stop_check, until - clock_type::now()));
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

void connection::session(transport& stream, bool first) {
  auto closed = [&] {
    // A writer blocked on a full socket (a frozen or cut-off server) holds the write
    // lock: the shutdown ends its write, so the lock is released and the client
    // reconnects instead of waiting for that writer forever.
    stream.shutdown();
    {
      std::lock_guard lock{write_mutex_};
      std::lock_guard live{live_mutex_};
      live_ = nullptr;
      connected_ = false;
    }
    // Jobs queued from this connection were stalled by the server when it ended.
    std::lock_guard lock{mutex_};
    for (auto& [name, s] : services_)
      s.queue.clear();
  };
  if (!stream.write_all(protocol::encode(protocol::hello{protocol::version, api_secret_,
                                                          options_.client_name}),
                        handshake_timeout))
    return closed();
  char prefix[protocol::length_prefix_bytes];
  auto deadline = clock_type::now() + handshake_timeout;
  if (!read_exact(stream, prefix, sizeof prefix, deadline, stopping_))
    return closed();
  auto length = protocol::read_length(reinterpret_cast<unsigned char*>(prefix));
  if (length == 0 || length > protocol::hello_frame_limit)
    return closed();
  std::string body(length, '\0');
  if (!read_exact(stream, body.data(), length, deadline, stopping_))
    return closed();
  std::chrono::milliseconds heartbeat{5000};
  try {
    auto handle = protocol::parse(body.data(), body.size());
    if (protocol::type_of(handle.get()) == protocol::frame_type::error) {
      auto e = protocol::decode<protocol::error>(handle.get());
      if (first)
        fail_first(std::make_exception_ptr(call_error(e.code, e.message)));
      return closed();
    }
    auto welcome = protocol::decode<protocol::welcome>(handle.get());
    heartbeat =
        std::chrono::milliseconds{std::max<std::uint32_t>(welcome.heartbeat_ms, 100)};
    max_frame_ = welcome.max_frame;
    std::lock_guard lock{mutex_};
    features_ = std::move(welcome.features);
  } catch (const std::exception& e) {
    if (first)
      fail_first(std::make_exception_ptr(call_error("bad_frame", e.what())));
    return closed();
  }
  // Silence from the server this long ends the connection, and so does a write that
  // makes no progress this long.
  const auto dead_after = 3 * heartbeat;
  {
    std::lock_guard lock{write_mutex_};
    std::lock_guard live{live_mutex_};
    live_ = &stream;
    connected_ = true;
    last_sent_ = clock_type::now();
    write_stall_limit_ = dead_after;
  }
  // Re-send what has no answer yet, and serve again with the free concurrency.
  std::vector<std::string> frames;
  std::vector<std::pair<request_completion, std::string>> unsupported;
  {
    std::lock_guard lock{mutex_};
    for (auto& [name, s] : services_) {
      std::vector<std::string> names;
      for (auto& [fn, h] : s.functions)
        names.push_back(fn);
      frames.push_back(protocol::encode(protocol::serve{name, names, machine_id_, ""}));
      if (s.concurrency > s.running)
        frames.push_back(
            protocol::encode(protocol::credit{name, s.concurrency - s.running}));
    }
    for (auto& [id, c] : calls_)
      frames.push_back(c.frame);
    // A server that does not know the frame would close the connection on it.
    for (auto it = requests_.begin(); it != requests_.end();) {
      if (offers(it->second.feature)) {
        frames.push_back(it->second.frame);
        ++it;
      } else {
        unsupported.emplace_back(std::move(it->second.done), it->second.feature);
        it = requests_.erase(it);
      }
    }
  }
  for (const auto& f : frames)
    send(f);
  for (auto& [done, feature] : unsupported)
    done(nullptr, unsupported_error(feature));
  if (first && !first_done_) {
    first_done_ = true;
    first_.set_value();
  }
  std::string buffer;
  auto last_received = clock_type::now();
  char chunk[64 * 1024];
  while (!stopping_) {
    auto n = stream.read_some(chunk, sizeof chunk, heartbeat / 2);
    auto now = clock_type::now();
    if (n < 0)
      break;
    if (n > 0) {
      last_received = now;
      buffer.append(chunk, static_cast<std::size_t>(n));
      bool broken = false;
      // Every complete frame of the buffer, then one erase of what they took (an erase
      // per frame moved the rest of a read once for each of its frames).
      std::size_t at = 0;
      // What the frames' completions send (the next calls of a caller that keeps calls
      // in flight) is written once after them.
      batching_ = true;
      while (buffer.size() - at >= protocol::length_prefix_bytes) {
        auto size =
            protocol::read_length(reinterpret_cast<unsigned char*>(buffer.data() + at));
        if (size == 0 || size > max_frame_ + protocol::hello_frame_limit) {
          broken = true;
          break;
        }
        if (buffer.size() - at < protocol::length_prefix_bytes + size)
          break;
        try {
          auto handle =
              protocol::parse(buffer.data() + at + protocol::length_prefix_bytes, size);
          handle_frame(handle.get());
        } catch (const std::exception&) {
          broken = true;
          break;
        }
        at += protocol::length_prefix_bytes + size;
      }
      batching_ = false;
      if (!batched_.empty())
        send(std::exchange(batched_, {}));
      if (broken)
        break;
      buffer.erase(0, at);
    }
    if (now - last_received > dead_after)
      break;
    // A write under way is a sign of life already, and the I/O thread must not wait
    // behind one that is blocked: it is the thread that notices the silence.
    std::unique_lock writing{write_mutex_, std::try_to_lock};
    if (writing && now - last_sent_ >= heartbeat / 2) {
      writing.unlock();
      send(protocol::encode(protocol::ping{}));
    }
  }
  closed();
}

void connection::handle_frame(const msgpack::object& body) {
  using protocol::frame_type;
  switch (protocol::type_of(body)) {
  case frame_type::ping:
  case frame_type::welcome:
    return;
  case frame_type::accepted: {
    auto a = protocol::decode<protocol::accepted>(body);
    // A call that waits for its result ignores its acceptance.
    if (auto done = take_call(a.call_id, true)) {
      call_outcome outcome{a.job_id, "", "", {}};
      done(&outcome, nullptr);
    }
    return;
  }
  case frame_type::result: {
    auto r = protocol::decode<protocol::result>(body);
    if (auto done = take_call(r.call_id, false)) {
      call_outcome outcome{r.job_id, r.status, r.result_type, std::move(r.value)};
      done(&outcome, nullptr);
    }
    return;
  }
  case frame_type::error: {
    auto e = protocol::decode<protocol::error>(body);
    if (auto done = take_call(e.ref, false))
      done(nullptr, std::make_exception_ptr(call_error(e.code, e.message)));
    else if (auto request_done = take_request(e.ref))
      request_done(nullptr, std::make_exception_ptr(call_error(e.code, e.message)));
    return;
  }
  case frame_type::kind_settings:
  case frame_type::namespace_settings:
    // The completion decodes the answer (a bad one fails its request, not the
    // connection).
    if (auto done = take_request(request_id_of(body)))
      done(&body, nullptr);
    return;
  case frame_type::job:
    return on_job(protocol::decode<protocol::job>(body));
  default:
    return;
  }
}

client::completion connection::take_call(const std::string& call_id,
                                         bool background_only) {
  std::lock_guard lock{mutex_};
  auto it = calls_.find(call_id);
  if (it == calls_.end() || (background_only && !it->second.background))
    return {};
  auto done = std::move(it->second.done);
  calls_.erase(it);
  return done;
}

connection::request_completion connection::take_request(const std::string& request_id) {
  std::lock_guard lock{mutex_};
  auto it = requests_.find(request_id);
  if (it == requests_.end())
    return {};
  auto done = std::move(it->second.done);
  requests_.erase(it);
  return done;
}

bool connection::offers(const std::string& feature) const {
  return std::find(features_.begin(), features_.end(), feature) != features_.end();
}

void connection::on_job(protocol::job job) {
  std::lock_guard lock{mutex_};
  auto it = services_.find(job.service);
  if (it == services_.end())
    return;
  it->second.queue.push_back(std::move(job));
  // One job, one worker: waking all of them (64 threads at concurrency 64) only made
  // them contend for the lock and go back to sleep.
  it->second.job_ready.notify_one();
}

void connection::work(const std::string& service) {
  for (;;) {
    protocol::job job;
    handler* h = nullptr;
    {
      std::unique_lock lock{mutex_};
      auto& s = services_.at(service);
      s.job_ready.wait(lock, [&] { return stopping_ || !s.queue.empty(); });
      if (stopping_)
        return;
      job = std::move(s.queue.front());
      s.queue.pop_front();
      ++s.running;
      if (auto fn = s.functions.find(job.fn); fn != s.functions.end())
        h = &fn->second;
    }
    auto started = clock_type::now();
    protocol::job_result result{job.job_id, job.attempt, "resolution", {}, -1};
    try {
      if (h == nullptr)
        throw call_error("Error", "Function was not registered. name='" + job.fn + "'");
      auto args = protocol::parse_value(job.args.data(), job.args.size());
      result.value = (*h)(args.get());
    } catch (const call_error& e) {
      result.result_type = "rejection";
      result.value = rejection_payload(e.name(), e.what());
    } catch (const protocol::protocol_error& e) {
      result.result_type = "rejection";
      result.value = rejection_payload("DecodeError", e.what());
    } catch (const std::exception& e) {
      result.result_type = "rejection";
      result.value = rejection_payload("Error", e.what());
    } catch (...) {
      result.result_type = "rejection";
      result.value = rejection_payload("Error", "the handler threw a non-exception");
    }
    result.execution_ms = static_cast<std::int32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started)
            .count());
    auto encoded = protocol::encode(result);
    // Over the server's frame limit, the server would close the connection and the job
    // come back to fail the same way: the job is rejected with the reason instead.
    const auto limit = max_frame_.load();
    if (encoded.size() - protocol::length_prefix_bytes > limit) {
      auto size = result.value.size();
      result.result_type = "rejection";
      result.value = rejection_payload(
          "ResultTooLarge", "the result of " + job.fn + " is " + std::to_string(size) +
                                " bytes, over the server's frame limit of " +
                                std::to_string(limit) + " bytes");
      encoded = protocol::encode(result);
    }
    // The result and the credit it frees go out in one write: one syscall, and one
    // segment for the server to read.
    auto frames = std::move(encoded) + protocol::encode(protocol::credit{service, 1});
    {
      std::lock_guard lock{mutex_};
      --services_.at(service).running;
    }
    send(frames);
  }
}

void connection::wake_all_workers() {
  std::lock_guard lock{mutex_};
  for (auto& [name, s] : services_)
    s.job_ready.notify_all();
}

bool connection::send(const std::string& frame) {
  // Only the I/O thread reads batching_ (the first test keeps the others from it).
  if (std::this_thread::get_id() == io_id_.load() && batching_) {
    batched_ += frame;
    return true;
  }
  std::lock_guard lock{write_mutex_};
  // Valid while the write lock is held: the session's end takes it before it lets go.
  transport* stream;
  {
    std::lock_guard live{live_mutex_};
    stream = live_;
  }
  if (stream == nullptr)
    return false;
  last_sent_ = clock_type::now();
  if (!stream->write_all(frame, write_stall_limit_)) {
    stream->shutdown(); // the I/O thread notices and reconnects
    return false;
  }
  return true;
}

void connection::submit(std::string service, std::string fn, bytes args,
                        call_options options, client::completion done) {
  if (stopping_)
    return done(nullptr, std::make_exception_ptr(
                             call_error("ClientClosed", "the client is closed")));
  auto id = new_call_id();
  auto frame = protocol::encode(
      protocol::call{id, std::move(service), std::move(fn), std::move(args), options});
  {
    std::lock_guard lock{mutex_};
    calls_.emplace(id, pending_call{frame, options.background, std::move(done)});
  }
  // Not connected: sent when the connection is back.
  send(frame);
}

void connection::request(const char* feature,
                         std::function<std::string(const std::string&)> encode,
                         request_completion done) {
  if (stopping_)
    return done(nullptr, std::make_exception_ptr(
                             call_error("ClientClosed", "the client is closed")));
  auto id = new_call_id();
  auto frame = encode(id);
  bool refused = false;
  {
    std::lock_guard lock{mutex_};
    refused = connected_ && !offers(feature);
    if (!refused)
      requests_.emplace(id, pending_request{frame, feature, std::move(done)});
  }
  // Outside the lock: the completion may call the client again.
  if (refused)
    return done(nullptr, unsupported_error(feature));
  // Not connected: sent when the connection is back (if that server takes it).
  send(frame);
}

void connection::serve(std::string service, std::map<std::string, handler> functions,
                       unsigned concurrency) {
  concurrency = std::max(concurrency, 1u);
  std::vector<std::string> names;
  for (auto& [fn, h] : functions)
    names.push_back(fn);
  {
    std::lock_guard lock{mutex_};
    auto& s = services_[service];
    s.functions = std::move(functions);
    s.concurrency = concurrency;
    for (unsigned i = 0; i < concurrency; ++i)
      s.workers.emplace_back([this, service] { work(service); });
  }
  send(protocol::encode(protocol::serve{service, names, machine_id_, ""}));
  send(protocol::encode(protocol::credit{service, concurrency}));
}

void connection::close() {
  stopping_ = true;
  {
    // Not the write lock: a writer may hold it, blocked until this shutdown.
    std::lock_guard live{live_mutex_};
    if (live_ != nullptr)
      live_->shutdown();
  }
  wake_all_workers();
  if (io_.joinable() && io_.get_id() != std::this_thread::get_id())
    io_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock{mutex_};
    for (auto& [name, s] : services_)
      for (auto& w : s.workers)
        workers.push_back(std::move(w));
  }
  wake_all_workers();
  // Joined before the services go: a worker finishing a job still counts in its service.
  for (auto& w : workers)
    if (w.joinable())
      w.join();
  std::unordered_map<std::string, pending_call> calls;
  std::unordered_map<std::string, pending_request> requests;
  {
    std::lock_guard lock{mutex_};
    services_.clear();
    calls.swap(calls_);
    requests.swap(requests_);
  }
  auto closed = [] {
    return std::make_exception_ptr(call_error("ClientClosed", "the client was closed"));
  };
  for (auto& [id, c] : calls)
    c.done(nullptr, closed());
  for (auto& [id, r] : requests)
    r.done(nullptr, closed());
}

} // namespace diffplane::client
