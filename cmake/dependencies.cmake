# All dependencies come from Debian 12 packages installed by scripts/setup.
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(CLI11 REQUIRED)

find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
find_library(CAF_IO_LIBRARY caf_io REQUIRED)
add_library(caf_core INTERFACE)
target_include_directories(caf_core SYSTEM INTERFACE ${CAF_INCLUDE_DIR})
target_link_libraries(caf_core INTERFACE ${CAF_CORE_LIBRARY} Threads::Threads)
add_library(caf_io INTERFACE)
target_link_libraries(caf_io INTERFACE caf_core ${CAF_IO_LIBRARY})

find_path(PQXX_INCLUDE_DIR pqxx/pqxx REQUIRED)
find_library(PQXX_LIBRARY pqxx REQUIRED)
find_library(PQ_LIBRARY pq REQUIRED)
add_library(pqxx_lib INTERFACE)
target_include_directories(pqxx_lib SYSTEM INTERFACE ${PQXX_INCLUDE_DIR})
target_link_libraries(pqxx_lib INTERFACE ${PQXX_LIBRARY} ${PQ_LIBRARY})

find_path(MSGPACK_INCLUDE_DIR msgpack.hpp REQUIRED)
add_library(msgpack_cxx_lib INTERFACE)
target_include_directories(msgpack_cxx_lib SYSTEM INTERFACE ${MSGPACK_INCLUDE_DIR})
target_compile_definitions(msgpack_cxx_lib INTERFACE MSGPACK_NO_BOOST)

add_library(beast_lib INTERFACE)
target_include_directories(beast_lib SYSTEM INTERFACE ${Boost_INCLUDE_DIRS})
target_compile_definitions(beast_lib INTERFACE BOOST_BEAST_USE_STD_STRING_VIEW
                                               BOOST_ASIO_NO_DEPRECATED)
target_link_libraries(beast_lib INTERFACE Threads::Threads)

# jemalloc replaces glibc's malloc in the executables: the server allocates per request
# (HTTP bodies, JSON, messages) and spent a quarter of its CPU in glibc malloc; jemalloc
# made the full job cycle about 25% faster (docs/BENCHMARKS.md).
# Not under ASan, which must own malloc to find what it finds.
add_library(jemalloc_lib INTERFACE)
if(NOT DIFFPLANE_SANITIZE)
  find_library(JEMALLOC_LIBRARY jemalloc REQUIRED)
  target_link_libraries(jemalloc_lib INTERFACE ${JEMALLOC_LIBRARY})
endif()
