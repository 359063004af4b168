#pragma once

#include <string>

namespace diffplane::testing {

struct test_certificate {
  std::string cert;
  std::string key;
};

/// A fresh self-signed certificate for localhost and 127.0.0.1 in a new temporary
/// directory, made by scripts/make-cert (it is its own CA: trust `cert` itself).
test_certificate make_test_certificate();

} // namespace diffplane::testing
