# Warnings apply to our own targets only; third-party headers are SYSTEM includes.
add_library(diffplane_warnings INTERFACE)
target_compile_options(diffplane_warnings INTERFACE -Wall -Wextra -Wpedantic)
if(DIFFPLANE_WERROR)
  target_compile_options(diffplane_warnings INTERFACE -Werror)
endif()
