#pragma once

#include <postgresql/libpq-fe.h>

#include <deque>
#include <string>
#include <vector>

namespace diffplane::bench {

/// What Postgres answered to one statement sent by pipelined_session::send.
struct statement_answer {
  bool ok = false;
  int rows = 0;      ///< Rows of its result (the fenced job write: leases held).
  std::string error; ///< When not ok: Postgres's message, or "aborted" in a pipeline.
};

/// One libpq connection that keeps up to `depth` statements in flight, each a
/// transaction of its own, driven by the caller's poll() on socket(). Depth 1 is the
/// server's writer today (send, wait for the commit, send the next) and does not enter
/// pipeline mode; from depth 2 on the connection is in libpq's pipeline mode and each
/// statement is followed by its own Sync, so each still commits alone. A statement is
/// answered only once its Sync (or, at depth 1, its end) has been read: after its commit.
class pipelined_session {
public:
  pipelined_session(const std::string& url, int depth);
  ~pipelined_session();
  pipelined_session(const pipelined_session&) = delete;
  pipelined_session& operator=(const pipelined_session&) = delete;

  /// SET name = value, before any statement is in flight.
  void set(const char* name, const char* value);
  /// Prepares `text` as `name`, before any statement is in flight.
  void prepare(const char* name, const std::string& text);
  /// The Postgres backend serving this session (pg_backend_pid()).
  int backend_pid() const { return backend_pid_; }

  int socket() const { return PQsocket(conn_); }
  bool can_send() const { return in_flight_ < depth_; }
  int in_flight() const { return in_flight_; }
  /// Whether output is still unsent: poll the socket for writing too.
  bool wants_write() const { return wants_write_; }

  /// Sends the prepared statement `name` with text parameters.
  void send(const char* name, const std::vector<std::string>& params);
  /// After poll() reported the socket: writes what is unsent, reads what arrived, and
  /// appends the answers of statements now complete, in the order they were sent.
  void on_ready(short revents, std::vector<statement_answer>& done);

private:
  void flush();
  void fail(const std::string& what) const;

  PGconn* conn_ = nullptr;
  int depth_ = 1;
  bool pipeline_ = false;
  int backend_pid_ = 0;
  int in_flight_ = 0;
  bool wants_write_ = false;
  /// The answer being read of the oldest statement in flight, and whether its result
  /// ended (the NULL after it); in a pipeline its Sync comes next.
  statement_answer current_;
  bool ended_ = false;
};

} // namespace diffplane::bench
