#define CAF_TEST_NO_MAIN
#include <caf/test/unit_test_impl.hpp>

#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
  // The actors log their lifecycle at info; tests only want to see problems.
  spdlog::set_level(spdlog::level::warn);
  return caf::test::main(argc, argv);
}
