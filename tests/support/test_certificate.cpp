#include "test_certificate.hpp"

#include "test_database.hpp"

#include <cstdlib>
#include <stdexcept>

namespace diffplane::testing {

test_certificate make_test_certificate() {
  const char* source = std::getenv("DIFFPLANE_SOURCE_DIR");
  if (source == nullptr)
    throw std::runtime_error("DIFFPLANE_SOURCE_DIR is not set; run through ctest");
  auto dir = make_temp_dir("diffplane-tls");
  auto command = std::string{source} + "/scripts/make-cert " + dir + " >/dev/null";
  if (std::system(command.c_str()) != 0)
    throw std::runtime_error("scripts/make-cert failed");
  return {dir + "/tls-cert.pem", dir + "/tls-key.pem"};
}

} // namespace diffplane::testing
