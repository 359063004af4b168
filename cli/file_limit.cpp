#include "cli/file_limit.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace diffplane::cli {

std::size_t raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("event=open_file_limit_unknown reason=\"{}\"", std::strerror(errno));
    return 1024;
  }
  auto before = limit.rlim_cur;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      spdlog::warn("event=open_file_limit_not_raised soft={} hard={} reason=\"{}\"",
                   before, limit.rlim_max, std::strerror(errno));
      limit.rlim_cur = before;
    }
  }
  spdlog::info("event=open_file_limit soft={} hard={} soft_before={}", limit.rlim_cur,
               limit.rlim_max, before);
  // RLIM_INFINITY is a huge number; no table of descriptors is that large.
  return limit.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20
                                         : static_cast<std::size_t>(limit.rlim_cur);
}

std::size_t connections_for(std::size_t open_files) {
  return open_files > 2 * descriptor_reserve ? open_files - descriptor_reserve
                                             : open_files / 2;
}

} // namespace diffplane::cli
