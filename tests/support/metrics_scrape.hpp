#pragma once

#include "server_process.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace diffplane::testing {

/// The value of the unlabelled sample `name` on the server's metrics port, or nothing
/// when the page has no such sample; throws when the server has no metrics port or the
/// page cannot be fetched.
std::optional<double> scrape_metric(const server_process& server,
                                    const std::string& name);

/// Waits until at least `count` long-polls are parked in the server (its
/// diffplane_parked_long_polls gauge), so that what a test does next finds them parked;
/// throws after `deadline`. The server needs `--metrics-listen 127.0.0.1:0`.
void wait_for_parked(const server_process& server, std::size_t count,
                     std::chrono::milliseconds deadline = std::chrono::seconds{30});

} // namespace diffplane::testing
