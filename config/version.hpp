#pragma once

#include <string>

namespace diffplane::config {

/// The release version, from CMake's project(VERSION).
const std::string& version();

/// The git commit the build was configured from (short hash, "-dirty" when the tree
/// had changes), or "unknown" outside a git checkout.
const std::string& git_commit();

/// What `diffplane --version` prints: "diffplane <version> (commit <hash>)".
std::string version_line();

} // namespace diffplane::config
