#define CAF_SUITE secrets

#include "actors/secrets.hpp"

#include <caf/test/unit_test.hpp>

#include <string>

using namespace diffplane;

namespace {

std::string hex(const std::string& raw) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xF]);
  }
  return out;
}

} // namespace

CAF_TEST(sha256 matches the standard test vectors on every call) {
  // FIPS 180-2 examples; the second round checks the algorithm fetched once is reused
  // correctly.
  for (int round = 0; round < 2; ++round) {
    CAF_CHECK_EQUAL(hex(secrets::sha256("abc")),
                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CAF_CHECK_EQUAL(hex(secrets::sha256("")),
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }
}

CAF_TEST(constant time equality compares whole secrets) {
  CAF_CHECK(secrets::constant_time_equals("sk_abc", "sk_abc"));
  CAF_CHECK(!secrets::constant_time_equals("sk_abc", "sk_abd"));
  CAF_CHECK(!secrets::constant_time_equals("sk_abc", "sk_ab"));
  CAF_CHECK(!secrets::constant_time_equals("", "sk_abc"));
}

CAF_TEST(new api secrets are prefixed random hex) {
  auto a = secrets::new_api_secret();
  auto b = secrets::new_api_secret();
  CAF_CHECK_EQUAL(a.size(), 67u);
  CAF_CHECK_EQUAL(a.substr(0, 3), "sk_");
  CAF_CHECK_EQUAL(a.find_first_not_of("0123456789abcdef", 3), std::string::npos);
  CAF_CHECK_NOT_EQUAL(a, b);
}
