# Runs a command and checks its exit status and output. Used by ctest:
#   cmake [-DEXIT=<n>] [-DSTDOUT_FILE=<file>] [-DSTDOUT_REGEX=<re>]
#         [-DSTDERR_REGEX=<re>] [-DSORT_STDOUT=ON] [-DWORKING_DIRECTORY=<dir>]
#         [-DFRESH_DIR=<dir>] [-DSTDIN_OPEN_PIPE=ON] [-DOUTPUT_FILE=<file>]
#         -P RunAndCheck.cmake -- <command> [args...]
# EXIT defaults to 0. STDOUT_FILE compares stdout exactly (after sorting its
# lines when SORT_STDOUT is set, for output whose order is up to threads).
# FRESH_DIR is emptied (created) before the run. STDIN_OPEN_PIPE gives the
# command a stdin pipe that stays open and empty for the whole run, so a read
# from stdin blocks (needs bash). OUTPUT_FILE sends stdout to that file (not
# a pipe) and checks what it holds.
set(cmd)
set(seen_sep OFF)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE 0 ${last})
  if(seen_sep)
    list(APPEND cmd "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(seen_sep ON)
  endif()
endforeach()
if(NOT cmd)
  message(FATAL_ERROR "RunAndCheck: no command after --")
endif()
if(NOT DEFINED EXIT)
  set(EXIT 0)
endif()
if(NOT WORKING_DIRECTORY)
  set(WORKING_DIRECTORY ".")
endif()

if(FRESH_DIR)
  file(REMOVE_RECURSE "${FRESH_DIR}")
  file(MAKE_DIRECTORY "${FRESH_DIR}")
endif()
if(STDIN_OPEN_PIPE)
  find_program(BASH bash REQUIRED)
  # (newlines, not semicolons: this is one element of a CMake list)
  set(script [[
exec 3< <(exec sleep 600 2>/dev/null)
p=$!
"$@" <&3 3<&-
rc=$?
kill $p
exit $rc]])
  set(cmd "${BASH}" -c "${script}" run-with-open-stdin ${cmd})
endif()

if(DEFINED OUTPUT_FILE)
  file(REMOVE "${OUTPUT_FILE}")
  execute_process(COMMAND ${cmd}
    WORKING_DIRECTORY "${WORKING_DIRECTORY}"
    RESULT_VARIABLE rc OUTPUT_FILE "${OUTPUT_FILE}" ERROR_VARIABLE err)
  file(READ "${OUTPUT_FILE}" out)
else()
  execute_process(COMMAND ${cmd}
    WORKING_DIRECTORY "${WORKING_DIRECTORY}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
endif()
list(JOIN cmd " " cmd_text)
set(report "command: ${cmd_text}\nexit: ${rc}\n--- stdout\n${out}--- stderr\n${err}---")

set(failures)
if(NOT rc STREQUAL "${EXIT}")
  list(APPEND failures "exit status ${rc}, expected ${EXIT}")
endif()
if(DEFINED STDOUT_FILE)
  file(READ "${STDOUT_FILE}" want)
  set(got "${out}")
  if(SORT_STDOUT)
    foreach(v want got)
      string(REGEX REPLACE "\n$" "" ${v} "${${v}}")
      string(REPLACE ";" "\\;" ${v} "${${v}}")
      string(REPLACE "\n" ";" ${v} "${${v}}")
      list(SORT ${v})
    endforeach()
  endif()
  if(NOT got STREQUAL want)
    list(APPEND failures "stdout differs from ${STDOUT_FILE}")
  endif()
endif()
if(DEFINED STDOUT_REGEX AND NOT out MATCHES "${STDOUT_REGEX}")
  list(APPEND failures "stdout does not match /${STDOUT_REGEX}/")
endif()
if(DEFINED STDERR_REGEX AND NOT err MATCHES "${STDERR_REGEX}")
  list(APPEND failures "stderr does not match /${STDERR_REGEX}/")
endif()

if(failures)
  list(JOIN failures "\n  " f)
  message(FATAL_ERROR "FAILED:\n  ${f}\n${report}")
endif()
message("${report}")
