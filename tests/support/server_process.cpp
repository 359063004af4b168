#include "server_process.hpp"

#include "test_database.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace diffplane::testing {

namespace {

std::string binary() {
  const char* bin = std::getenv("DIFFPLANE_BIN");
  if (bin == nullptr)
    throw std::runtime_error("DIFFPLANE_BIN is not set; run the tests through ctest");
  return bin;
}

pid_t spawn(const std::vector<std::string>& args,
            const std::vector<std::string>& environment, const std::string& output_path,
            const std::string& netns = {}) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    // A failed CAF_REQUIRE aborts the test binary without running destructors, and
    // ctest kills one that times out: the child must not outlive it, holding its port
    // and its Postgres connections. (The signal follows the forking thread: servers are
    // started from the test's own thread.)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127);
    int out = open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    // What `ip netns exec` does for the network: enter the namespace its name pins.
    if (!netns.empty()) {
      int ns = open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || setns(ns, CLONE_NEWNET) != 0)
        _exit(126);
      close(ns);
    }
    for (const auto& assignment : environment)
      putenv(const_cast<char*>(assignment.c_str()));
    std::vector<char*> argv;
    auto bin = binary();
    argv.push_back(bin.data());
    for (const auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

/// Waits for `pid` up to `timeout`; returns its exit code, or -1 when still running.
int wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    auto result = waitpid(pid, &status, WNOHANG);
    if (result == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (std::chrono::steady_clock::now() >= until)
      return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The name=value lines of the server's port file; empty until the server wrote it
/// (it renames the whole file into place, so it is never read half written).
std::map<std::string, std::string> read_ports(const std::string& path) {
  std::map<std::string, std::string> ports;
  std::ifstream in{path};
  for (std::string line; std::getline(in, line);)
    if (auto equals = line.find('='); equals != std::string::npos)
      ports[line.substr(0, equals)] = line.substr(equals + 1);
  return ports;
}

} // namespace

server_process::server_process(std::vector<std::string> args,
                               std::vector<std::string> environment,
                               server_location location) {
  auto dir = make_temp_dir("diffplane-server");
  log_path_ = dir + "/server.log";
  // Port 0 and a port file: no port is chosen here and handed over later, so no other
  // process (a parallel test) can take it in between.
  auto port_file = dir + "/ports";
  std::vector<std::string> full{"serve", "--listen", location.host + ":0", "--port-file",
                                port_file};
  full.insert(full.end(), args.begin(), args.end());
  if (auto flag = std::find(args.begin(), args.end(), "--tls-cert");
      flag != args.end() && flag + 1 != args.end())
    tls_cert_ = *(flag + 1);
  pid_ = spawn(full, environment, log_path_, location.netns);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds{60};
  while (std::chrono::steady_clock::now() < until) {
    if (wait_for(pid_, std::chrono::milliseconds{0}) >= 0) {
      pid_ = -1;
      throw std::runtime_error("the server exited at start:\n" + log());
    }
    if (endpoint_.empty()) {
      auto ports = read_ports(port_file);
      if (ports.count("http") > 0)
        endpoint_ = (tls_cert_.empty() ? "http://" : "https://") + location.host + ":" +
                    ports["http"];
      if (ports.count("metrics") > 0)
        metrics_endpoint_ = "http://127.0.0.1:" + ports["metrics"];
      if (ports.count("native") > 0)
        native_port_ = static_cast<std::uint16_t>(std::stoi(ports["native"]));
    }
    try {
      if (!endpoint_.empty() &&
          client(std::chrono::seconds{2}).request("GET", "/live").status == 200)
        return;
    } catch (const std::exception&) {
      // not answering yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  kill();
  throw std::runtime_error("the server did not become live:\n" + log());
}

int server_process::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0)
    return -1;
  auto code = wait_for(pid_, timeout);
  if (code >= 0)
    pid_ = -1;
  return code;
}

server_process::~server_process() {
  if (pid_ > 0)
    stop();
  // For a failure that needs the servers' own account of what happened.
  if (std::getenv("DIFFPLANE_TEST_KEEP_LOGS") != nullptr) {
    std::fprintf(stderr, "server log kept: %s\n", log_path_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path{log_path_}.parent_path(), ec);
}

cli::http_client server_process::client(std::chrono::milliseconds timeout) const {
  return cli::http_client{endpoint_, timeout, tls_cert_};
}

int server_process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, SIGTERM);
  auto code = wait_for(pid_, grace);
  if (code < 0) {
    ::kill(pid_, SIGKILL);
    code = wait_for(pid_, std::chrono::seconds{10});
  }
  pid_ = -1;
  return code;
}

void server_process::kill() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  wait_for(pid_, std::chrono::seconds{10});
  pid_ = -1;
}

std::string server_process::log() const {
  return read_file(log_path_);
}

command_result run_diffplane(const std::vector<std::string>& args,
                             const std::vector<std::string>& environment,
                             std::chrono::seconds timeout) {
  auto output_path = make_temp_dir("diffplane-command") + "/output.log";
  auto pid = spawn(args, environment, output_path);
  auto code = wait_for(pid, timeout);
  if (code < 0) {
    ::kill(pid, SIGKILL);
    wait_for(pid, std::chrono::seconds{10});
  }
  command_result result{code, read_file(output_path)};
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path{output_path}.parent_path(), ec);
  return result;
}

} // namespace diffplane::testing
