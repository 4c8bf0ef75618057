# Writes build_info.hpp with the version and the current git commit. Run at every build (not only at
# configure time) so the commit in `kurator version` is the one the binary was built from; the file is
# rewritten only when its content changes, so nothing recompiles needlessly.
#   cmake -DSOURCE_DIR=... -DTEMPLATE=... -DOUTPUT=... -DPROJECT_VERSION=... -P build_info.cmake
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE KURATOR_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT KURATOR_GIT_COMMIT)
  set(KURATOR_GIT_COMMIT unknown)
endif()
configure_file(${TEMPLATE} ${OUTPUT} @ONLY)
