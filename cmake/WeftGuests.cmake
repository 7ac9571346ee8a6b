# Building WebAssembly test guests.
#
#   weft_threaded_guest(<name> SOURCES <c files> [MAX_MEMORY <bytes>])
#       Freestanding threaded C (no libc): clang --target=wasm32-wasi
#       -matomics -mbulk-memory -nostdlib, wasm-ld --shared-memory, plus
#       c-tests/guests/threaded/thread_start.s for wasi_thread_start.
#   weft_libc_guest(<name> SOURCE <c file>)
#       Non-threaded C against Debian's wasi-libc (--sysroot=/usr).
#   weft_pthread_guest(<name> SOURCE <c file>)
#       Portable pthread C with wasi-sdk: weft_add_wasm_guest(... THREADS), see
#       WeftAddWasmGuest.cmake (the function installed for users).
#
# Each defines a target guest_<name> that produces ${WEFT_GUEST_DIR}/<name>.wasm.
# WEFT_HAVE_THREADED_GUESTS / WEFT_HAVE_LIBC_GUESTS / WEFT_HAVE_PTHREAD_GUESTS
# say which kinds this machine can build.
#
# These build the guests of the ctests. `cargo test` runs without a CMake build
# and builds the guests it needs itself, with the same flags, in one place:
# tests/common/guest.rs (keep the two in step).

set(WEFT_GUEST_DIR "${CMAKE_BINARY_DIR}/guests")
file(MAKE_DIRECTORY "${WEFT_GUEST_DIR}")

find_program(WEFT_WASM_CLANG NAMES clang-19 clang DOC "clang with the WebAssembly target")
find_program(WEFT_WASM_LD NAMES wasm-ld-19 wasm-ld DOC "the WebAssembly linker")
set(WEFT_WASI_SYSROOT "/usr" CACHE PATH "Sysroot holding a wasm32-wasi libc (Debian package wasi-libc)")

set(WEFT_HAVE_THREADED_GUESTS OFF)
set(WEFT_HAVE_LIBC_GUESTS OFF)
if(WEFT_WASM_CLANG AND WEFT_WASM_LD)
  # clang may lack the wasm32 runtime library; try a real compile+link.
  set(_probe_dir "${CMAKE_BINARY_DIR}/CMakeFiles/weft-wasm-probe")
  file(MAKE_DIRECTORY "${_probe_dir}")
  file(WRITE "${_probe_dir}/probe.c" "int x; void _start(void) { __atomic_fetch_add(&x, 1, __ATOMIC_SEQ_CST); }\n")
  execute_process(
    COMMAND "${WEFT_WASM_CLANG}" --target=wasm32-wasi -matomics -mbulk-memory -nostdlib -c probe.c -o probe.o
    WORKING_DIRECTORY "${_probe_dir}" RESULT_VARIABLE _cc_rc OUTPUT_QUIET ERROR_QUIET)
  if(_cc_rc EQUAL 0)
    execute_process(
      COMMAND "${WEFT_WASM_LD}" --import-memory --export-memory --shared-memory --max-memory=1048576 probe.o -o probe.wasm
      WORKING_DIRECTORY "${_probe_dir}" RESULT_VARIABLE _ld_rc OUTPUT_QUIET ERROR_QUIET)
    if(_ld_rc EQUAL 0)
      set(WEFT_HAVE_THREADED_GUESTS ON)
    endif()
  endif()
  file(WRITE "${_probe_dir}/hello.c" "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n")
  execute_process(
    COMMAND "${WEFT_WASM_CLANG}" --target=wasm32-wasi "--sysroot=${WEFT_WASI_SYSROOT}" hello.c -o hello.wasm
    WORKING_DIRECTORY "${_probe_dir}" RESULT_VARIABLE _libc_rc OUTPUT_QUIET ERROR_QUIET)
  if(_libc_rc EQUAL 0)
    set(WEFT_HAVE_LIBC_GUESTS ON)
  endif()
endif()
message(STATUS "weft: threaded C guests (clang + wasm-ld): ${WEFT_HAVE_THREADED_GUESTS}")
message(STATUS "weft: wasi-libc C guests (sysroot ${WEFT_WASI_SYSROOT}): ${WEFT_HAVE_LIBC_GUESTS}")

# wasi-sdk pthread guests: required whenever WASI_SDK_PATH names a wasi-sdk
# (a probe that cannot build is a configure error, not a silent skip).
# Otherwise their tests are registered as skipped, giving
# WEFT_PTHREAD_GUESTS_SKIPPED as the reason.
option(WEFT_GUEST_TESTS "Build and run the wasi-sdk guest tests (pthread_*, sqlite) when WASI_SDK_PATH is set" ON)
set(WEFT_HAVE_PTHREAD_GUESTS OFF)
if(NOT WEFT_GUEST_TESTS)
  set(WEFT_PTHREAD_GUESTS_SKIPPED "WEFT_GUEST_TESTS is OFF in this build")
elseif(NOT WEFT_BUILD_CLI)
  set(WEFT_PTHREAD_GUESTS_SKIPPED "weft-run is not built (WEFT_BUILD_CLI=OFF)")
elseif(NOT WASI_SDK_PATH)
  set(WEFT_PTHREAD_GUESTS_SKIPPED "no wasi-sdk: set WASI_SDK_PATH before configuring")
else()
  if(NOT WEFT_WASI_SDK_FOUND)
    message(FATAL_ERROR "WASI_SDK_PATH=${WASI_SDK_PATH} has no bin/clang and share/wasi-sysroot")
  endif()
  set(_probe_dir "${CMAKE_BINARY_DIR}/CMakeFiles/weft-wasi-sdk-probe")
  file(MAKE_DIRECTORY "${_probe_dir}")
  file(WRITE "${_probe_dir}/probe.c" "#include <pthread.h>\nstatic void *f(void *a) { return a; }\n"
    "int main(void) { pthread_t t; return pthread_create(&t, 0, f, 0) || pthread_join(t, 0); }\n")
  execute_process(
    COMMAND "${WASI_SDK_PATH}/bin/clang" --target=wasm32-wasip1-threads "--sysroot=${WASI_SDK_PATH}/share/wasi-sysroot"
            -pthread -Wl,--import-memory,--export-memory,--max-memory=1048576 probe.c -o probe.wasm
    WORKING_DIRECTORY "${_probe_dir}" RESULT_VARIABLE _sdk_rc OUTPUT_VARIABLE _sdk_out ERROR_VARIABLE _sdk_out)
  if(NOT _sdk_rc EQUAL 0)
    message(FATAL_ERROR "WASI_SDK_PATH=${WASI_SDK_PATH} cannot build a pthread guest:\n${_sdk_out}")
  endif()
  set(WEFT_HAVE_PTHREAD_GUESTS ON)
endif()
message(STATUS "weft: wasi-sdk pthread guests (WASI_SDK_PATH=${WASI_SDK_PATH}): ${WEFT_HAVE_PTHREAD_GUESTS}")

# weft_skipped_test(<name> <reason>): registers <name> as a test that ctest
# reports as skipped (exit 77), so a test whose toolchain is missing is
# listed by name instead of silently absent.
function(weft_skipped_test name reason)
  add_test(NAME ${name} COMMAND sh -c "echo \"skipped: $1\"; exit 77" skip "${reason}")
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS skipped)
endfunction()

set(_weft_thread_start "${PROJECT_SOURCE_DIR}/c-tests/guests/threaded/thread_start.s")

function(weft_threaded_guest name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "MAX_MEMORY" "SOURCES")
  if(NOT arg_MAX_MEMORY)
    set(arg_MAX_MEMORY 4194304)
  endif()
  set(flags --target=wasm32-wasi -matomics -mbulk-memory -nostdlib -Wall -Wextra -Werror)
  set(objs)
  foreach(src IN LISTS arg_SOURCES _weft_thread_start)
    get_filename_component(stem "${src}" NAME_WE)
    get_filename_component(ext "${src}" LAST_EXT)
    set(is_c OFF)
    if(ext STREQUAL ".c")
      set(is_c ON)
    endif()
    set(obj "${WEFT_GUEST_DIR}/${name}.obj/${stem}.o")
    add_custom_command(OUTPUT "${obj}"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${WEFT_GUEST_DIR}/${name}.obj"
      COMMAND "${WEFT_WASM_CLANG}" ${flags} $<$<BOOL:${is_c}>:-O2> -c "${src}" -o "${obj}"
      DEPENDS "${src}" "${PROJECT_SOURCE_DIR}/c-tests/guests/threaded/threads.h"
      COMMENT "clang (wasm32, threaded) ${name}: ${stem}" VERBATIM)
    list(APPEND objs "${obj}")
  endforeach()
  set(out "${WEFT_GUEST_DIR}/${name}.wasm")
  add_custom_command(OUTPUT "${out}"
    COMMAND "${WEFT_WASM_LD}" --import-memory --export-memory --shared-memory
            --max-memory=${arg_MAX_MEMORY} --export=wasi_thread_start -z stack-size=65536
            ${objs} -o "${out}"
    DEPENDS ${objs}
    COMMENT "wasm-ld (shared memory) ${name}.wasm" VERBATIM)
  add_custom_target(guest_${name} ALL DEPENDS "${out}")
endfunction()

function(weft_libc_guest name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SOURCE" "")
  set(out "${WEFT_GUEST_DIR}/${name}.wasm")
  add_custom_command(OUTPUT "${out}"
    COMMAND "${WEFT_WASM_CLANG}" --target=wasm32-wasi "--sysroot=${WEFT_WASI_SYSROOT}" -O1 -Wall -Werror
            "${arg_SOURCE}" -o "${out}"
    DEPENDS "${arg_SOURCE}"
    COMMENT "clang (wasm32-wasi libc) ${name}.wasm" VERBATIM)
  add_custom_target(guest_${name} ALL DEPENDS "${out}")
endfunction()

function(weft_pthread_guest name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SOURCE" "")
  weft_add_wasm_guest(guest_${name} THREADS SOURCES "${arg_SOURCE}"
    OUTPUT_NAME ${name} OUTPUT_DIRECTORY "${WEFT_GUEST_DIR}"
    COMPILE_OPTIONS -Wall -Wextra -Werror)
endfunction()
