#include "network_namespaces.hpp"

#include "test_database.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace diffplane::testing {

namespace {

/// Every name this helper makes starts with "dpp" and the id of the process that made
/// it: namespaces "dpp<pid>-<label>", the bridge "dpp<pid>br", veths "dpp<pid>v<i>"
/// (interface names have at most 15 characters).
std::string prefix_of(pid_t pid) {
  return "dpp" + std::to_string(pid);
}

bool process_gone(const std::string& pid) {
  return ::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH;
}

/// Runs `command`, ignoring its failure and its output (clean-ups of what may be gone).
void run_quietly(const std::string& command) noexcept {
  try {
    run_command(command + " >/dev/null 2>&1 || true");
  } catch (const std::exception&) {
    // nothing to clean up then
  }
}

/// Removes the namespaces and links of test processes that no longer run.
void remove_stale() {
  std::istringstream namespaces{run_command("ip netns list 2>/dev/null || true")};
  static const std::regex namespace_name{R"(^(dpp([0-9]+)-\S+))"};
  for (std::string line; std::getline(namespaces, line);)
    if (std::smatch m; std::regex_search(line, m, namespace_name) && process_gone(m[2]))
      run_quietly("ip netns del " + m[1].str());
  std::istringstream links{run_command("ip -o link show 2>/dev/null || true")};
  static const std::regex link_name{R"(^[0-9]+: (dpp([0-9]+)(br|v[0-9]+))[@:])"};
  for (std::string line; std::getline(links, line);)
    if (std::smatch m; std::regex_search(line, m, link_name) && process_gone(m[2]))
      run_quietly("ip link del " + m[1].str());
}

/// A third octet N for 10.231.N.0/24 that no interface here uses, starting from one
/// chosen by the process id so that runs side by side start apart.
std::string free_subnet() {
  auto in_use = run_command("ip -4 -o addr show");
  auto start = static_cast<int>(getpid() % 250);
  for (int i = 0; i < 250; ++i) {
    auto subnet = "10.231." + std::to_string((start + i) % 250 + 1) + ".";
    if (in_use.find(subnet) == std::string::npos)
      return subnet;
  }
  throw std::runtime_error("no free /24 in 10.231.0.0/16");
}

} // namespace

std::optional<std::string> namespace_network::unavailable() {
  if (geteuid() != 0)
    return "not running as root (network namespaces need CAP_NET_ADMIN)";
  auto probe = prefix_of(getpid()) + "-probe";
  try {
    run_command("ip netns add " + probe + " 2>&1");
  } catch (const std::exception& e) {
    return std::string{"`ip netns add` does not work here: "} + e.what();
  }
  run_quietly("ip netns del " + probe);
  return std::nullopt;
}

namespace_network::namespace_network(std::vector<std::string> labels)
    : prefix_(prefix_of(getpid())), labels_(std::move(labels)) {
  remove_stale();
  try {
    subnet_ = free_subnet();
    host_address_ = subnet_ + "1";
    service_address_ = subnet_ + "254";
    auto bridge = prefix_ + "br";
    run_command("ip link add " + bridge + " type bridge");
    bridge_made_ = true;
    run_command("ip addr add " + host_address_ + "/24 dev " + bridge);
    run_command("ip addr add " + service_address_ + "/24 dev " + bridge);
    run_command("ip link set " + bridge + " up");
    for (std::size_t i = 0; i < labels_.size(); ++i) {
      auto ns = netns(labels_[i]);
      auto veth = prefix_ + "v" + std::to_string(i);
      run_command("ip netns add " + ns);
      namespaces_made_.push_back(ns);
      run_command("ip link add " + veth + " type veth peer name eth0 netns " + ns);
      run_command("ip link set " + veth + " master " + bridge + " up");
      run_command("ip -n " + ns + " addr add " + address(labels_[i]) + "/24 dev eth0");
      run_command("ip -n " + ns + " link set eth0 up");
      run_command("ip -n " + ns + " link set lo up");
    }
  } catch (...) {
    tear_down();
    throw;
  }
}

namespace_network::~namespace_network() {
  tear_down();
}

void namespace_network::tear_down() noexcept {
  // The veth pairs go first, explicitly: a namespace without processes and without a
  // name still lives while sockets of its processes do (a closed connection resending
  // its last segment to a peer that is gone lingers for minutes), and its veth pair
  // with it.
  for (std::size_t i = 0; i < namespaces_made_.size(); ++i)
    run_quietly("ip link del " + prefix_ + "v" + std::to_string(i));
  for (const auto& ns : namespaces_made_)
    run_quietly("ip netns del " + ns);
  namespaces_made_.clear();
  if (bridge_made_)
    run_quietly("ip link del " + prefix_ + "br");
  bridge_made_ = false;
}

std::size_t namespace_network::index_of(const std::string& label) const {
  for (std::size_t i = 0; i < labels_.size(); ++i)
    if (labels_[i] == label)
      return i;
  throw std::invalid_argument("no namespace labelled " + label);
}

std::string namespace_network::address(const std::string& label) const {
  return subnet_ + std::to_string(index_of(label) + 2);
}

std::string namespace_network::netns(const std::string& label) const {
  index_of(label);
  return prefix_ + "-" + label;
}

void namespace_network::cut(const std::string& label, const std::string& to) {
  run_command("ip -n " + netns(label) + " route add blackhole " + to + "/32");
  cuts_.emplace_back(label, to);
}

void namespace_network::heal(const std::string& label, const std::string& to) {
  run_command("ip -n " + netns(label) + " route del blackhole " + to + "/32");
  std::erase(cuts_, std::pair{label, to});
}

void namespace_network::separate(const std::string& a, const std::string& b) {
  cut(a, address(b));
  cut(b, address(a));
}

void namespace_network::heal_all() {
  auto cuts = cuts_;
  for (const auto& [label, to] : cuts)
    heal(label, to);
}

} // namespace diffplane::testing
