#include "bench/tools/tool_common.hpp"

#include "bench/loadgen/setup_calls.hpp"

#include <boost/asio/io_context.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

namespace diffplane::bench {

server_address resolve_address(const std::string& endpoint,
                               const std::string& authorization) {
  const std::string scheme = "http://";
  std::string rest = endpoint;
  if (rest.rfind(scheme, 0) != 0)
    throw setup_error("endpoint must look like http://HOST:PORT: " + endpoint);
  rest.erase(0, scheme.size());
  while (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size())
    throw setup_error("endpoint must look like http://HOST:PORT: " + endpoint);
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver{io};
  boost::system::error_code error;
  auto endpoints = resolver.resolve(rest.substr(0, colon), rest.substr(colon + 1), error);
  if (error)
    throw setup_error("cannot resolve " + endpoint + ": " + error.message());
  return {std::move(endpoints), rest, authorization};
}

std::uint64_t raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return 0;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

proc_figures read_proc_status(int pid) {
  proc_figures figures;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    long value = -1;
    fields >> key >> value;
    if (key == "VmRSS:")
      figures.rss_kib = value;
    else if (key == "Threads:")
      figures.threads = value;
  }
  return figures;
}

std::optional<double> metric_value(const server_address& metrics,
                                   const std::string& name) {
  using boost::beast::http::verb;
  const auto answer = blocking_exchange(metrics, {verb::get, "/metrics", {}, {}});
  if (answer.error || answer.status != 200)
    return std::nullopt;
  std::istringstream lines(answer.body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ' ')
      return std::stod(line.substr(name.size() + 1));
  }
  return std::nullopt;
}

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double quantile(std::vector<double>& values, double q) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1));
  return values[index];
}

} // namespace diffplane::bench
