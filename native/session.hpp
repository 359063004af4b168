#pragma once

#include "gateway/actor_bridge.hpp"
#include "gateway/connection_limits.hpp"
#include "native/native_server.hpp"
#include "native/native_stream.hpp"

#include <diffplane/protocol.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace diffplane::native {

/// One native client's connection: reads bounded frames, authenticates the first, then
/// turns calls, serves, credits and job results into actor requests of its cluster.
/// Runs on the server's single I/O thread; answers from the actors are posted back to it.
class session : public std::enable_shared_from_this<session> {
public:
  /// `io` runs the socket; held so that an answer from the actors arriving after the
  /// server stopped is posted to a stopped context, never to a destroyed one. With
  /// `tls`, the connection is TLS: nothing is read before its handshake.
  /// `slot` is the connection's place in the listener's limits, held until it ends.
  session(std::shared_ptr<boost::asio::io_context> io,
          boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls,
          const native_server_options& options, gateway::actor_bridge& bridge,
          gateway::connection_slot slot);

  void start();
  /// Instead of start(), on plain TCP: sends the error frame `code` and closes, reading
  /// nothing.
  void refuse(std::string code, std::string message);
  /// Closes the connection now (server shutdown).
  void close();

private:
  /// A service this connection serves: its credit and the jobs asked for.
  struct served {
    std::vector<std::string> functions;
    std::uint64_t credits = 0;
    /// Credits covered by requests to the pool that are not answered yet.
    std::uint64_t requested = 0;
    /// Wait before asking the pool again after it refused: doubles while the cluster
    /// refuses the service for its limits, which lasts until an operator acts.
    std::chrono::milliseconds retry_pause{1000};
  };

  /// Reads what the socket holds into in_ (many frames per read when they are
  /// pipelined), then handles them.
  void read_more();
  /// Handles the complete frames in in_, then reads on (not while a hello is checked).
  void handle_input();
  void dispatch(const msgpack::object& body);
  void on_hello(protocol::hello hello);
  void on_call(protocol::call call);
  /// Parks the wait for a call's result, from any thread (see its definition).
  /// `posted`: taken as the worker posts it, not once its write committed. `pause`: how
  /// long to wait before asking again if the cluster has no room to park it or cannot
  /// answer now (doubling each time).
  void await_result(std::string call_id, std::string job_id, bool posted,
                    std::chrono::milliseconds pause);
  /// A call waiting for its result was answered (its result, or an error).
  void end_wait();
  void on_serve(protocol::serve serve);
  void on_credit(protocol::credit credit);
  void on_job_result(protocol::job_result result);
  /// Replaces a kind's controller settings, as PUT /resources-kinds/:kind does
  /// (session_resources.cpp, like the next three).
  void on_configure_kind(protocol::configure_kind request);
  /// Answers a kind's controller settings, as GET /resources-kinds/:kind does.
  void on_read_kind(protocol::read_kind request);
  /// Replaces a namespace's limits, as PUT /resources-namespaces/:name does.
  void on_configure_namespace(protocol::configure_namespace request);
  /// Answers a namespace's limits, as GET /resources-namespaces/:name does.
  void on_read_namespace(protocol::read_namespace request);
  /// Sends the cluster's answer to a kind request `id` (its settings, or the error).
  void answer_kind(resource_kind_request request, const std::string& id);
  /// Sends the cluster's answer to a namespace request `id`.
  void answer_namespace(resource_namespace_request request, const std::string& id);
  void request_jobs(const std::string& service);
  void send_error(std::string ref, std::string code, std::string message);
  /// Sends an error about the connection itself, then closes it.
  void fail(std::string code, std::string message);
  void send(std::string frame);
  /// Writes every queued frame in one gathered write.
  void write_next();
  /// Whether reading waits for outbox_ to drain.
  bool outbox_full() const;
  void arm_heartbeat();
  /// The client's last sign of life: a frame received, or, while reading is paused
  /// (its pings wait unread), a write it took.
  std::chrono::steady_clock::time_point last_heard_from() const {
    return reading_paused_ ? std::max(last_received_, last_written_) : last_received_;
  }
  /// Runs `f` on the I/O thread if the connection is still open.
  template <class F> void on_io_thread(F f) {
    boost::asio::post(executor_,
                      [self = shared_from_this(), f = std::move(f)]() mutable {
                        if (!self->closed_)
                          f();
                      });
  }

  std::shared_ptr<boost::asio::io_context> io_;
  /// The I/O thread's executor: answers from the actors are posted to it.
  boost::asio::ip::tcp::socket::executor_type executor_;
  native_stream stream_;
  native_server_options options_;
  gateway::actor_bridge& bridge_;
  gateway::connection_slot slot_;
  std::string ip_;
  boost::asio::steady_timer heartbeat_timer_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_received_;
  std::chrono::steady_clock::time_point last_sent_;
  /// When a write last completed: while reading is paused the client's pings are not
  /// read, and its taking what it was sent is the sign that it lives.
  std::chrono::steady_clock::time_point last_written_;
  /// Received bytes not handled yet are in_[in_begin_, in_end_). Its size grows past
  /// a read chunk only for a frame whose length passed the limit check.
  std::vector<char> in_;
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  std::deque<std::string> outbox_;
  /// The bytes of outbox_, bounded by options_.max_outbox_bytes.
  std::size_t outbox_bytes_ = 0;
  /// No read is under way because outbox_ holds more than the client has taken: it
  /// resumes once the writes have drained it (backpressure on a client that sends
  /// faster than it reads).
  bool reading_paused_ = false;
  /// The first frames of outbox_ in the write under way, and their buffers.
  std::size_t in_write_ = 0;
  std::vector<boost::asio::const_buffer> write_buffers_;
  bool writing_ = false;
  /// A write is posted to run after the handlers already queued, so their frames join it.
  bool write_posted_ = false;
  bool closing_ = false;
  bool closed_ = false;
  /// The TLS handshake is done (at once on plain TCP): frames may be sent.
  bool handshaken_ = false;
  bool authenticated_ = false;
  gateway::cluster_ref cluster_;
  std::string machine_id_;
  std::string deployment_id_;
  std::map<std::string, served> services_;
  /// Calls of this connection waiting for their results (bounded by
  /// options_.max_waiting_calls).
  std::size_t waiting_calls_ = 0;
  /// Services given credit by the frames being handled (see on_credit).
  std::vector<std::string> credited_;
};

} // namespace diffplane::native
