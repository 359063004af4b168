#include "persistence/embedded_postgres.hpp"

#include "persistence/connection_settings.hpp"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <vector>

namespace fs = std::filesystem;

namespace diffplane::persistence {

namespace {

[[noreturn]] void fail(const std::string& message) {
  throw std::runtime_error("embedded Postgres: " + message);
}

/// The account Postgres runs under: ourselves, or `postgres` when we are root.
struct run_as {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

run_as postgres_account() {
  run_as account;
  if (geteuid() != 0)
    return account;
  auto* pw = getpwnam("postgres");
  if (pw == nullptr)
    fail("running as root needs the 'postgres' user (apt-get install postgresql)");
  account.switch_user = true;
  account.uid = pw->pw_uid;
  account.gid = pw->pw_gid;
  return account;
}

/// Runs `argv` (as `account`), appending its output to `log_path`; returns its exit code.
int run(const std::vector<std::string>& argv, const run_as& account,
        const std::string& log_path) {
  pid_t pid = fork();
  if (pid < 0)
    fail("fork failed");
  if (pid == 0) {
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      dup2(devnull, STDIN_FILENO);
    if (account.switch_user) {
      if (setgroups(0, nullptr) != 0 || setgid(account.gid) != 0 ||
          setuid(account.uid) != 0)
        _exit(126);
    }
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void make_owned_dir(const fs::path& dir, const run_as& account, mode_t mode) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    fail("cannot create " + dir.string() + ": " + ec.message());
  if (account.switch_user && chown(dir.c_str(), account.uid, account.gid) != 0)
    fail("cannot hand " + dir.string() + " to the postgres user");
  chmod(dir.c_str(), mode);
}

/// A TCP port nobody listens on right now (Postgres also claims it for its socket name).
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0)
      close(fd);
    fail("cannot find a free port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

/// Port and socket directory of a Postgres that runs on `cluster_dir`, if one does.
bool running_postmaster(const fs::path& cluster_dir, int& port, std::string& socket_dir) {
  std::ifstream pid_file{cluster_dir / "postmaster.pid"};
  if (!pid_file)
    return false;
  std::vector<std::string> lines;
  for (std::string line; std::getline(pid_file, line);)
    lines.push_back(line);
  if (lines.size() < 5)
    return false;
  pid_t pid = static_cast<pid_t>(std::stol(lines[0]));
  if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH))
    return false;
  port = std::stoi(lines[3]);
  socket_dir = lines[4];
  return true;
}

/// Unix socket paths are limited to 107 bytes; a deep data dir gets a short twin in /tmp.
fs::path socket_dir_for(const fs::path& data_dir) {
  auto preferred = data_dir / "run";
  if (preferred.string().size() < 80)
    return preferred;
  auto hash = std::hash<std::string>{}(data_dir.string());
  return fs::path{"/tmp"} / ("diffplane-pg-" + std::to_string(hash % 1000000007));
}

std::string socket_url(const std::string& socket_dir, int port,
                       const std::string& dbname) {
  return "host=" + socket_dir + " port=" + std::to_string(port) +
         " user=postgres dbname=" + dbname + " connect_timeout=10";
}

void ensure_database(const std::string& socket_dir, int port) {
  // A Postgres that started but hangs must fail the start, not block it.
  connection_settings check;
  check.statement_timeout = std::chrono::seconds{30};
  pqxx::connection admin{
      connection_string(socket_url(socket_dir, port, "postgres"), check)};
  pqxx::nontransaction txn{admin};
  auto exists = txn.exec("SELECT 1 FROM pg_database WHERE datname = 'diffplane'");
  if (exists.empty())
    txn.exec("CREATE DATABASE diffplane");
}

} // namespace

embedded_postgres embedded_postgres::start(const embedded_postgres_options& options) {
  embedded_postgres pg;
  pg.options_ = options;
  auto account = postgres_account();
  auto data_dir = fs::absolute(options.data_dir).lexically_normal();
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec)
    fail("cannot create data dir " + data_dir.string() + ": " + ec.message());

  if (account.switch_user) {
    // Postgres runs as `postgres` and must pass through the data dir to its own files.
    struct stat info {};
    if (stat(data_dir.c_str(), &info) == 0)
      chmod(data_dir.c_str(), info.st_mode | S_IXGRP | S_IXOTH);
    if (run({"/usr/bin/test", "-x", data_dir.string()}, account, "/dev/null") != 0)
      fail("the postgres user cannot reach " + data_dir.string() +
           "; make its parent directories traversable (chmod o+x) or choose another "
           "--data-dir");
  }

  auto lock_path = data_dir / "diffplane.lock";
  pg.lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (pg.lock_fd_ < 0)
    fail("cannot open " + lock_path.string());
  if (flock(pg.lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    std::ifstream holder{lock_path};
    std::string pid;
    std::getline(holder, pid);
    throw std::runtime_error(
        "data dir " + data_dir.string() + " is in use by another diffplane (pid " +
        (pid.empty() ? "unknown" : pid) + "); stop it or use another --data-dir");
  }
  auto pid_text = std::to_string(getpid()) + "\n";
  if (ftruncate(pg.lock_fd_, 0) != 0 ||
      write(pg.lock_fd_, pid_text.data(), pid_text.size()) < 0)
    spdlog::warn("event=lock_pid_not_written path={}", lock_path.string());

  auto cluster_dir = data_dir / "pg";
  pg.cluster_dir_ = cluster_dir.string();
  auto log_path = (data_dir / "postgres.log").string();
  if (account.switch_user && !fs::exists(log_path)) {
    std::ofstream{log_path};
    chown(log_path.c_str(), account.uid, account.gid);
  }

  if (!fs::exists(cluster_dir / "PG_VERSION")) {
    make_owned_dir(cluster_dir, account, 0700);
    spdlog::info("event=initdb dir={}", cluster_dir.string());
    int rc = run({options.bin_dir + "/initdb", "-D", cluster_dir.string(), "-U",
                  "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"},
                 account, log_path);
    if (rc != 0)
      fail("initdb failed (exit " + std::to_string(rc) + "); see " + log_path +
           (rc == 126 || rc == 127
                ? ""
                : "; is the data dir reachable by the postgres user?"));
  }

  int port = 0;
  std::string socket_dir;
  if (running_postmaster(cluster_dir, port, socket_dir)) {
    spdlog::info("event=embedded_postgres_reused port={} socket_dir={}", port,
                 socket_dir);
  } else {
    port = free_port();
    auto sockets = socket_dir_for(data_dir);
    make_owned_dir(sockets, account, 0700);
    socket_dir = sockets.string();
    std::string server_options = "-c port=" + std::to_string(port) +
                                 " -c listen_addresses='' -c unix_socket_directories='" +
                                 socket_dir + "'";
    int rc = run({options.bin_dir + "/pg_ctl", "-D", cluster_dir.string(), "-l", log_path,
                  "-w", "-t", "60", "-o", server_options, "start"},
                 account, log_path);
    if (rc != 0)
      fail("pg_ctl start failed (exit " + std::to_string(rc) + "); see " + log_path);
    spdlog::info("event=embedded_postgres_started port={} socket_dir={}", port,
                 socket_dir);
  }
  ensure_database(socket_dir, port);
  pg.url_ = socket_url(socket_dir, port, "diffplane");
  return pg;
}

embedded_postgres::embedded_postgres(embedded_postgres&& other) noexcept
    : options_(std::move(other.options_)), cluster_dir_(std::move(other.cluster_dir_)),
      url_(std::move(other.url_)), lock_fd_(other.lock_fd_) {
  other.lock_fd_ = -1;
  other.cluster_dir_.clear();
}

embedded_postgres::~embedded_postgres() {
  stop();
}

void embedded_postgres::stop() {
  if (lock_fd_ < 0)
    return;
  if (!cluster_dir_.empty()) {
    auto log_path = (fs::path{cluster_dir_}.parent_path() / "postgres.log").string();
    int rc = run(
        {options_.bin_dir + "/pg_ctl", "-D", cluster_dir_, "-m", "fast", "-w", "stop"},
        postgres_account(), log_path);
    if (rc != 0)
      spdlog::warn("event=embedded_postgres_stop_failed exit={}", rc);
    else
      spdlog::info("event=embedded_postgres_stopped");
  }
  close(lock_fd_);
  lock_fd_ = -1;
}

} // namespace diffplane::persistence
