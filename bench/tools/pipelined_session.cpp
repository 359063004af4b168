#include "bench/tools/pipelined_session.hpp"

#include <poll.h>

#include <stdexcept>

namespace diffplane::bench {

pipelined_session::pipelined_session(const std::string& url, int depth)
    : conn_(PQconnectdb(url.c_str())), depth_(depth < 1 ? 1 : depth),
      pipeline_(depth_ > 1) {
  if (PQstatus(conn_) != CONNECTION_OK)
    fail("connect");
  PGresult* pid = PQexec(conn_, "SELECT pg_backend_pid()");
  if (PQresultStatus(pid) != PGRES_TUPLES_OK) {
    PQclear(pid);
    fail("pg_backend_pid()");
  }
  backend_pid_ = std::stoi(PQgetvalue(pid, 0, 0));
  PQclear(pid);
}

pipelined_session::~pipelined_session() {
  PQfinish(conn_);
}

void pipelined_session::fail(const std::string& what) const {
  throw std::runtime_error("commit-pipeline: " + what + ": " + PQerrorMessage(conn_));
}

void pipelined_session::set(const char* name, const char* value) {
  const char* values[] = {name, value};
  PGresult* r = PQexecParams(conn_, "SELECT set_config($1, $2, false)", 2, nullptr,
                             values, nullptr, nullptr, 0);
  const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  if (!ok)
    fail(std::string{"SET "} + name);
}

void pipelined_session::prepare(const char* name, const std::string& text) {
  PGresult* r = PQprepare(conn_, name, text.c_str(), 0, nullptr);
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!ok)
    fail(std::string{"prepare "} + name);
  // Prepared (synchronously) first: pipeline mode allows only asynchronous calls.
  if (pipeline_ && PQpipelineStatus(conn_) == PQ_PIPELINE_OFF &&
      PQenterPipelineMode(conn_) != 1)
    fail("enter pipeline mode");
  if (PQsetnonblocking(conn_, 1) != 0)
    fail("non-blocking");
}

void pipelined_session::send(const char* name, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params)
    values.push_back(p.c_str());
  if (PQsendQueryPrepared(conn_, name, static_cast<int>(values.size()), values.data(),
                          nullptr, nullptr, 0) != 1)
    fail("send");
  // Its own Sync: the statement is a transaction of its own, committed before the
  // next one starts, and a failure aborts nothing sent after it.
  if (pipeline_ && PQpipelineSync(conn_) != 1)
    fail("sync");
  ++in_flight_;
  flush();
}

void pipelined_session::flush() {
  const int left = PQflush(conn_);
  if (left < 0)
    fail("flush");
  wants_write_ = left == 1;
}

void pipelined_session::on_ready(short revents, std::vector<statement_answer>& done) {
  if (revents & POLLOUT)
    flush();
  if (!(revents & (POLLIN | POLLERR | POLLHUP)))
    return;
  if (PQconsumeInput(conn_) != 1)
    fail("read");
  auto complete = [&] {
    done.push_back(std::move(current_));
    current_ = {};
    ended_ = false;
    --in_flight_;
  };
  while (in_flight_ > 0 && !PQisBusy(conn_)) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      // The statement's results ended. Its rows come before its commit: outside a
      // pipeline this NULL follows ReadyForQuery, after the commit; in a pipeline the
      // commit happens at its Sync, whose PGRES_PIPELINE_SYNC comes next.
      if (ended_)
        break;
      ended_ = true;
      if (!pipeline_)
        complete();
      continue;
    }
    switch (PQresultStatus(r)) {
    case PGRES_PIPELINE_SYNC:
      PQclear(r);
      complete();
      continue;
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
      current_.ok = true;
      current_.rows = PQntuples(r);
      break;
    case PGRES_PIPELINE_ABORTED:
      current_.ok = false;
      current_.error = "aborted";
      break;
    default:
      current_.ok = false;
      current_.error = PQresultErrorMessage(r);
      break;
    }
    PQclear(r);
  }
  if (wants_write_)
    flush();
}

} // namespace diffplane::bench
