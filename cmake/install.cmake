# `cmake --install build --prefix /usr/local`: the binary, its documentation and the
# packaging examples (systemd unit, TOML config, compose file). The console is inside
# the binary; nothing else is needed at run time besides the shared libraries.
include(GNUInstallDirs)
install(TARGETS diffplane RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md" PATTERN "*.png")
install(FILES ${PROJECT_SOURCE_DIR}/packaging/diffplane.service
              ${PROJECT_SOURCE_DIR}/packaging/diffplane.toml
              ${PROJECT_SOURCE_DIR}/packaging/compose.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
