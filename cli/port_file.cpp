#include "cli/port_file.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

namespace diffplane::cli {

void write_port_file(const std::string& path, std::uint16_t http_port,
                     std::uint16_t metrics_port, std::uint16_t native_port) {
  // The pid keeps two servers given the same path from writing one temporary file.
  auto temporary = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out{temporary, std::ios::trunc};
    out << "http=" << http_port << "\n";
    if (metrics_port != 0)
      out << "metrics=" << metrics_port << "\n";
    if (native_port != 0)
      out << "native=" << native_port << "\n";
    out.close();
    if (!out)
      throw std::runtime_error("cannot write " + temporary);
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    auto reason = ec.message();
    std::filesystem::remove(temporary, ec);
    throw std::runtime_error("cannot rename " + temporary + " to " + path + ": " +
                             reason);
  }
}

} // namespace diffplane::cli
