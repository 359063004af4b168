# Writes a C++ source holding the version and the git commit, taken at configure time:
# `diffplane --version` and the optional Server header report them. A commit made after
# configuring shows only once CMake runs again (scripts/build reconfigures when
# CMakeLists change; `cmake build` forces it).
# A build outside a checkout (a container build copies no .git) passes
# -DDIFFPLANE_GIT_COMMIT=<hash>.
set(DIFFPLANE_GIT_COMMIT "" CACHE STRING "git commit to report when the source is not a checkout")
function(diffplane_embed_version output)
  set(commit "unknown")
  find_package(Git QUIET)
  if(DIFFPLANE_GIT_COMMIT)
    set(commit ${DIFFPLANE_GIT_COMMIT})
  elseif(GIT_FOUND)
    execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
                    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                    OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE status ERROR_QUIET)
    if(status EQUAL 0 AND head)
      set(commit ${head})
      execute_process(COMMAND ${GIT_EXECUTABLE} status --porcelain --untracked-files=no
                      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                      OUTPUT_VARIABLE changes RESULT_VARIABLE status ERROR_QUIET)
      if(status EQUAL 0 AND changes)
        string(APPEND commit "-dirty")
      endif()
    endif()
  endif()
  file(CONFIGURE OUTPUT ${output} CONTENT
"#include \"config/version.hpp\"

namespace diffplane::config {

const std::string& version() {
  static const std::string text = \"@PROJECT_VERSION@\";
  return text;
}

const std::string& git_commit() {
  static const std::string text = \"@commit@\";
  return text;
}

std::string version_line() {
  return \"diffplane \" + version() + \" (commit \" + git_commit() + \")\";
}

} // namespace diffplane::config
" @ONLY)
endfunction()
