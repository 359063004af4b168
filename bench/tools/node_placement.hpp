#pragma once

#include <string>
#include <vector>

// run-cycle's fixed placement: node ids picked so that rendezvous hashing (the servers'
// own, actors/ownership.cpp) gives the bench clusters the owners the run asks for.
namespace diffplane::bench {

/// How clusters are placed: "spread" puts cluster i on node i mod N, "one" puts every
/// cluster on node 1 (i counts in the order that placement_for returns).
struct placement_plan {
  std::vector<std::string> cluster_ids;
  int nodes = 1;
  bool spread = true;
  /// Node 1's id, fixed (it runs before the clusters exist); the others are picked.
  std::string first_id = "bench-1";
  /// How many id sets to try before giving up.
  long long max_tries = 2'000'000;
};

struct placement {
  /// Node 1's id first; "bench-<n>" for the others when those place the clusters as
  /// asked, else "bench-<n>.<try>" of the first try that does.
  std::vector<std::string> node_ids;
  /// The clusters reordered so that cluster i's preferred owner is node i mod N (spread)
  /// or node 1 (one); it is the order to give loadgen.
  std::vector<std::string> cluster_ids;
};

/// The placement of `plan`, or one with no node ids when no try within the limit gave it.
placement placement_for(const placement_plan& plan);

} // namespace diffplane::bench
