#include "metrics_scrape.hpp"

#include <sstream>
#include <stdexcept>
#include <thread>

namespace diffplane::testing {

std::optional<double> scrape_metric(const server_process& server,
                                    const std::string& name) {
  if (server.metrics_endpoint().empty())
    throw std::runtime_error("the server has no metrics port: start it with "
                             "--metrics-listen 127.0.0.1:0");
  cli::http_client client{server.metrics_endpoint(), std::chrono::seconds{10}};
  auto reply = client.request("GET", "/metrics");
  if (reply.status != 200)
    throw std::runtime_error("GET /metrics answered " + std::to_string(reply.status));
  std::istringstream lines{reply.body};
  auto prefix = name + " ";
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(prefix, 0) == 0)
      return std::stod(line.substr(prefix.size()));
  return std::nullopt;
}

void wait_for_parked(const server_process& server, std::size_t count,
                     std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  std::optional<double> parked;
  for (;;) {
    parked = scrape_metric(server, "diffplane_parked_long_polls");
    if (parked && *parked >= static_cast<double>(count))
      return;
    if (std::chrono::steady_clock::now() >= until)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  throw std::runtime_error("not " + std::to_string(count) + " parked long-polls after " +
                           std::to_string(deadline.count()) + " ms; the gauge shows " +
                           (parked ? std::to_string(*parked) : std::string{"nothing"}));
}

} // namespace diffplane::testing
