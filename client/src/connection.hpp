#pragma once

#include "transport.hpp"

#include <diffplane/client/client.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

// The client's connection: one I/O thread dials, authenticates, reads frames, sends
// heartbeats and reconnects with backoff; served functions run on worker threads.
namespace diffplane::client {

class connection {
public:
  connection(std::string host, std::string port, std::string api_secret,
             connect_options options, tls_settings tls);
  ~connection();

  /// Starts the I/O thread and waits for the first welcome; throws call_error.
  void start();
  void submit(std::string service, std::string fn, bytes args, call_options options,
              client::completion done);
  void serve(std::string service, std::map<std::string, handler> functions,
             unsigned concurrency);
  /// Called with a settings request's answer frame (or its error), on the I/O thread.
  using request_completion =
      std::function<void(const msgpack::object*, std::exception_ptr)>;
  /// Sends a settings request (configure_kind, read_kind, configure_namespace,
  /// read_namespace), made by `encode` for a fresh request id, now or once connected, to
  /// a server whose welcome lists `feature` ("unsupported" from one that does not).
  /// Re-sent after a reconnection like a call: reading or replacing settings twice
  /// changes nothing.
  void request(const char* feature, std::function<std::string(const std::string&)> encode,
               request_completion done);
  bool connected() const { return connected_.load(); }
  void close();

private:
  struct pending_call {
    std::string frame;
    bool background = false;
    client::completion done;
  };

  struct pending_request {
    std::string frame;
    std::string feature;
    request_completion done;
  };

  struct served_service {
    std::map<std::string, handler> functions;
    unsigned concurrency = 1;
    unsigned running = 0;
    std::deque<protocol::job> queue;
    /// Signalled once per pushed job: one idle worker of this service takes it.
    std::condition_variable job_ready;
    std::vector<std::thread> workers;
  };

  void run();
  /// One connected session: handshake, then frames until it breaks.
  void session(transport& stream, bool first);
  void handle_frame(const msgpack::object& body);
  /// Removes an open call and returns its completion (empty when there is none, or it
  /// is not a background call and `background_only`).
  client::completion take_call(const std::string& call_id, bool background_only);
  /// Removes an open settings request and returns its completion (empty: none).
  request_completion take_request(const std::string& request_id);
  /// Whether the connected server's welcome listed `feature` (under mutex_).
  bool offers(const std::string& feature) const;
  void on_job(protocol::job job);
  void work(const std::string& service);
  /// Writes a frame (or several, concatenated: one syscall) if connected; false when
  /// not (it is re-sent after reconnecting when it matters).
  bool send(const std::string& frames);
  /// Wakes every worker thread (closing).
  void wake_all_workers();
  void fail_first(std::exception_ptr error);

  std::string host_;
  std::string port_;
  std::string api_secret_;
  connect_options options_;
  tls_settings tls_;
  std::thread io_;
  /// The I/O thread's id, for send() to know it is called there.
  std::atomic<std::thread::id> io_id_;
  /// While the I/O thread handles the frames of a read, what it sends is gathered in
  /// batched_ and written after them (I/O thread only).
  bool batching_ = false;
  std::string batched_;
  /// The connected session's stream, null between sessions. Set and cleared under both
  /// write_mutex_ and live_mutex_; live_mutex_ alone lets close() shut it down while a
  /// writer, holding write_mutex_, is blocked in it.
  transport* live_ = nullptr;
  std::mutex live_mutex_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};
  std::mutex write_mutex_;
  std::chrono::steady_clock::time_point last_sent_;
  /// How long a write may make no progress before the connection counts as dead: the
  /// silence that ends it when nothing is received (three heartbeats). A server that
  /// pings but no longer reads would otherwise hold a writer, and the I/O thread
  /// behind it, for good. Under write_mutex_.
  std::chrono::milliseconds write_stall_limit_{0};
  /// The server's frame limit (its welcome); read by the worker threads.
  std::atomic<std::uint64_t> max_frame_{protocol::hello_frame_limit};

  std::mutex mutex_;
  std::unordered_map<std::string, pending_call> calls_;
  std::unordered_map<std::string, pending_request> requests_;
  /// The features of the connected server's welcome (frames it takes beyond the first).
  std::vector<std::string> features_;
  std::map<std::string, served_service> services_;
  std::string machine_id_;

  std::promise<void> first_;
  bool first_done_ = false;
};

} // namespace diffplane::client
