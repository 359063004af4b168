#pragma once

#include "gateway/actor_bridge.hpp"
#include "native/native_server.hpp"

#include <diffplane/protocol.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <map>
#include <memory>
#include <string>

namespace diffplane::native {

/// One native client's connection: reads bounded frames, authenticates the first, then
/// turns calls, serves, credits and job results into actor requests of its cluster.
/// Runs on the server's single I/O thread; answers from the actors are posted back to it.
class session : public std::enable_shared_from_this<session> {
public:
  /// `io` runs the socket; held so that an answer from the actors arriving after the
  /// server stopped is posted to a stopped context, never to a destroyed one.
  session(std::shared_ptr<boost::asio::io_context> io,
          boost::asio::ip::tcp::socket socket, const native_server_options& options,
          gateway::actor_bridge& bridge);

  void start();
  /// Closes the connection now (server shutdown).
  void close();

private:
  /// A service this connection serves: its credit and the jobs asked for.
  struct served {
    std::vector<std::string> functions;
    std::uint64_t credits = 0;
    /// Credits covered by requests to the pool that are not answered yet.
    std::uint64_t requested = 0;
  };

  void read_header();
  void read_body(std::uint32_t length);
  void on_frame();
  void dispatch(const msgpack::object& body);
  void on_hello(protocol::hello hello);
  void on_call(protocol::call call);
  void await_result(std::string call_id, std::string job_id);
  void on_serve(protocol::serve serve);
  void on_credit(protocol::credit credit);
  void on_job_result(protocol::job_result result);
  void request_jobs(const std::string& service);
  void send_error(std::string ref, std::string code, std::string message);
  /// Sends an error about the connection itself, then closes it.
  void fail(std::string code, std::string message);
  void send(std::string frame);
  void write_next();
  void arm_heartbeat();
  /// Runs `f` on the I/O thread if the connection is still open.
  template <class F> void on_io_thread(F f);

  std::shared_ptr<boost::asio::io_context> io_;
  boost::asio::ip::tcp::socket socket_;
  native_server_options options_;
  gateway::actor_bridge& bridge_;
  std::string ip_;
  boost::asio::steady_timer heartbeat_timer_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_received_;
  std::chrono::steady_clock::time_point last_sent_;
  unsigned char header_[protocol::length_prefix_bytes] = {};
  std::string body_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool authenticated_ = false;
  gateway::cluster_ref cluster_;
  std::string machine_id_;
  std::string deployment_id_;
  std::map<std::string, served> services_;
};

} // namespace diffplane::native
