# ctest install.prefix: `cmake --install` into a temporary prefix puts the binary, its
# documentation and the packaging examples where docs/operations.md says, and the
# installed binary runs. Arguments: -DBUILD_DIR=... -DPREFIX=...
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
                RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${output}")
endif()
foreach(file bin/diffplane share/doc/diffplane/README.md
             share/doc/diffplane/operations.md share/doc/diffplane/console.md
             share/doc/diffplane/configuration.md
             share/doc/diffplane/examples/diffplane.service
             share/doc/diffplane/examples/diffplane.toml
             share/doc/diffplane/examples/compose.yaml)
  if(NOT EXISTS ${PREFIX}/${file})
    message(FATAL_ERROR "cmake --install did not install ${file}")
  endif()
endforeach()
execute_process(COMMAND ${PREFIX}/bin/diffplane --version RESULT_VARIABLE status
                OUTPUT_VARIABLE version)
if(NOT status EQUAL 0 OR NOT version MATCHES "^diffplane [0-9.]+ \\(commit ")
  message(FATAL_ERROR "the installed diffplane --version printed '${version}'")
endif()
file(REMOVE_RECURSE ${PREFIX})
message(STATUS "installed and ran: ${version}")
