#pragma once

#include <optional>
#include <string>
#include <vector>

namespace diffplane::testing {

/// A small network of Linux network namespaces for partition tests: a bridge in the
/// test's own namespace with two addresses of a /24 of 10.231.0.0/16 (`host_address()`,
/// the source of the test's own connections, and `service_address()`, for a database),
/// and one namespace per label, each linked to the bridge by a veth pair and holding
/// one address of the /24. Names carry this process's id, so runs side by side do not
/// meet; the destructor removes everything it made (deleting a namespace deletes its
/// veth pair and its routes), and the constructor removes what a test process that
/// died without cleaning up (an aborting CAF_REQUIRE, a ctest timeout) left behind.
/// Needs root and `ip` (iproute2).
class namespace_network {
public:
  /// Why no network can be made here (not root, no `ip netns`), or nullopt.
  static std::optional<std::string> unavailable();

  /// Makes the bridge and one namespace per label (short labels: "a", "b").
  explicit namespace_network(std::vector<std::string> labels);
  ~namespace_network();
  namespace_network(const namespace_network&) = delete;
  namespace_network& operator=(const namespace_network&) = delete;

  /// The bridge's first address: what the test's connections to the namespaces come from.
  const std::string& host_address() const { return host_address_; }
  /// The bridge's second address, for services of the test's namespace (a database):
  /// cutting a namespace from it leaves the test able to reach that namespace.
  const std::string& service_address() const { return service_address_; }
  /// The address of the namespace of `label`.
  std::string address(const std::string& label) const;
  /// The `ip netns` name of the namespace of `label`.
  std::string netns(const std::string& label) const;

  /// Drops every packet the namespace of `label` sends to `to` (an address), with a
  /// blackhole route: its connects there fail, its established connections fall silent.
  void cut(const std::string& label, const std::string& to);
  /// Removes the route `cut(label, to)` added.
  void heal(const std::string& label, const std::string& to);
  /// Cuts the namespaces of `a` and `b` from each other, both ways.
  void separate(const std::string& a, const std::string& b);
  /// Removes every route `cut` added.
  void heal_all();

private:
  std::size_t index_of(const std::string& label) const;
  void tear_down() noexcept;

  std::string prefix_;
  std::string subnet_; // "10.231.N."
  std::string host_address_;
  std::string service_address_;
  std::vector<std::string> labels_;
  std::vector<std::string> namespaces_made_;
  bool bridge_made_ = false;
  std::vector<std::pair<std::string, std::string>> cuts_;
};

} // namespace diffplane::testing
