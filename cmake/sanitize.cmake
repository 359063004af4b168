# The ASan+UBSan tree (scripts/build-sanitize into build-sanitize/): clang, every object
# instrumented, the unit and integration suites and the fuzzers of tests/fuzz/.
# The fuzzers and the suites share one compilation of the libraries; only the libraries
# the fuzzers exercise carry libFuzzer's coverage counters (tests/fuzz/CMakeLists.txt).
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
# Neither make nor ccache knows that the objects depend on the ignorelist's contents (a
# cached object built under the old list once hid a fix). Editing it reconfigures; its
# hash on the command line makes make rebuild, and ccache hashes the file itself (a
# define alone would not do: ccache's preprocessor mode ignores unused defines).
set(DIFFPLANE_UBSAN_IGNORELIST ${PROJECT_SOURCE_DIR}/cmake/ubsan-ignorelist.txt)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${DIFFPLANE_UBSAN_IGNORELIST})
file(SHA256 ${DIFFPLANE_UBSAN_IGNORELIST} ignorelist_hash)
string(SUBSTRING ${ignorelist_hash} 0 16 ignorelist_hash)
add_compile_definitions(DIFFPLANE_UBSAN_IGNORELIST_HASH=${ignorelist_hash})
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env
                                  CCACHE_EXTRAFILES=${DIFFPLANE_UBSAN_IGNORELIST}
                                  ${CCACHE_PROGRAM})
endif()
add_compile_options(-fsanitize=address,undefined
                    -fno-sanitize-recover=all -fno-omit-frame-pointer
                    -fsanitize-ignorelist=${DIFFPLANE_UBSAN_IGNORELIST})
add_link_options(-fsanitize=address,undefined)
# Unity builds: the libraries' files compile in batches of six, so the CAF, Beast and
# libpqxx templates they share are parsed, instantiated and instrumented once per batch
# instead of once per file (persistence/ in one batch took 74 s of CPU instead of 120).
# Only here: in build/ a batch would recompile six files for an edit to one. Targets
# whose files clash when joined (the caf-test suites, actors/) turn it off.
set(CMAKE_UNITY_BUILD ON)
set(CMAKE_UNITY_BUILD_BATCH_SIZE 6)
