# The ASan+UBSan tree (scripts/build-sanitize into build-sanitize/): clang, every object
# instrumented, the unit and integration suites and the fuzzers of tests/fuzz/.
# Every object also carries libFuzzer's coverage counters (fuzzer-no-link), so the
# fuzzers and the suites share one compilation of the libraries instead of two.
if(NOT DIFFPLANE_SANITIZE)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "DIFFPLANE_SANITIZE needs clang for libFuzzer: configure with "
                      "-DCMAKE_CXX_COMPILER=clang++ (scripts/build-sanitize does)")
endif()
# -O1 and line tables only: readable stack traces for about half the compile time of
# RelWithDebInfo. Assertions stay on.
set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O1 -gline-tables-only")
add_compile_options(-fsanitize=address,undefined,fuzzer-no-link
                    -fno-sanitize-recover=all -fno-omit-frame-pointer
                    -fsanitize-ignorelist=${PROJECT_SOURCE_DIR}/cmake/ubsan-ignorelist.txt)
add_link_options(-fsanitize=address,undefined)
