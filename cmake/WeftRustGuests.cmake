# Rust test guests (tests/guests/rust/): std::thread, std::sync, rayon,
# crossbeam, parking_lot, std::fs, exits and panics, built for
# wasm32-wasip1-threads and run by weft-run as the ctests rust_guest_<name>.
#
# One `cargo build --release --locked --target wasm32-wasip1-threads` builds
# every guest into its own target dir; each lands at
#   ${WEFT_RUST_GUEST_DIR}/<name>.wasm   (= <build>/guests/rust/<name>.wasm)
# Expected stdout: tests/guests/rust/expected/<name>.stdout (exact).
# Without cargo or the rustup target (or with -DWEFT_RUST_GUESTS=OFF), every
# rust_guest_* test is still registered, by name, and reports itself skipped.
# For other tests that run a Rust guest: WEFT_HAVE_RUST_GUESTS says whether
# the target `rust_guests` (which builds them all) exists.

set(WEFT_RUST_GUEST_SRC "${PROJECT_SOURCE_DIR}/tests/guests/rust")
set(WEFT_RUST_GUEST_DIR "${CMAKE_BINARY_DIR}/guests/rust")
set(_rust_guest_target wasm32-wasip1-threads)

# The tests, known by name whether or not they can be built here:
#   weft_rust_guest(<test> [GUEST <bin>] [EXIT <n>] [STDERR_REGEX <re>]
#                   [WEFT_ARGS <weft-run options>...] [ARGS <guest args>...]
#                   [ENV <ctest ENVIRONMENT_MODIFICATION entries>...])
set(_rust_guest_tests)
set(_rust_guest_bins)
function(weft_rust_guest test)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "GUEST;EXIT;STDERR_REGEX" "WEFT_ARGS;ARGS;ENV")
  if(NOT arg_GUEST)
    set(arg_GUEST ${test})
  endif()
  if(NOT DEFINED arg_EXIT)
    set(arg_EXIT 0)
  endif()
  set(_rust_guest_tests ${_rust_guest_tests} ${test} PARENT_SCOPE)
  set(_rust_guest_bins ${_rust_guest_bins} ${arg_GUEST} PARENT_SCOPE)
  foreach(k GUEST EXIT STDERR_REGEX WEFT_ARGS ARGS ENV)
    set(_rust_guest_${test}_${k} "${arg_${k}}" PARENT_SCOPE)
  endforeach()
endfunction()

set(_rust_fs_dir "${CMAKE_BINARY_DIR}/guests/rust-fs")
weft_rust_guest(threads)
weft_rust_guest(sync)
weft_rust_guest(thread_local)
weft_rust_guest(rayon)
# The parallelism hint (weft-run --parallelism): none leaves the guest's
# environment as it is (rayon's global pool: 1 thread); a number sets
# RAYON_NUM_THREADS and OMP_NUM_THREADS unless --env or --inherit-env set
# them; the thread limit caps it. (The host's own number, weft-run's
# default: c-tests/test_parallelism.c.)
weft_rust_guest(rayon_default WEFT_ARGS --parallelism none)
weft_rust_guest(rayon_parallelism_3 GUEST rayon_default WEFT_ARGS --parallelism 3)
weft_rust_guest(rayon_env GUEST rayon_default
  WEFT_ARGS --parallelism 3 --env RAYON_NUM_THREADS=4)
weft_rust_guest(rayon_env_wins GUEST rayon_default
  WEFT_ARGS --env RAYON_NUM_THREADS=1 --parallelism 3)
weft_rust_guest(rayon_inherited_env_wins GUEST rayon_default
  WEFT_ARGS --inherit-env --parallelism 2
  ENV RAYON_NUM_THREADS=set:1 OMP_NUM_THREADS=unset:)
weft_rust_guest(rayon_max_threads GUEST rayon_default
  WEFT_ARGS --parallelism 3 --max-threads 2 ARGS global-only)
weft_rust_guest(rayon_max_threads_host GUEST rayon_default
  WEFT_ARGS --max-threads 1 ARGS global-only)
weft_rust_guest(crossbeam)
weft_rust_guest(parking_lot)
weft_rust_guest(fs WEFT_ARGS --dir "${_rust_fs_dir}::/data" ARGS /data)
weft_rust_guest(exit_from_thread EXIT 42)
weft_rust_guest(main_returns EXIT 7)
weft_rust_guest(thread_limit WEFT_ARGS --max-threads 4)
weft_rust_guest(panic_in_thread EXIT 134
  STDERR_REGEX "thread 'worker-3'( \\([0-9]+\\))? panicked at src/bin/panic_in_thread.rs:[0-9]+:[0-9]+:.boom from worker 3.*thread [0-9]+ trapped.*unreachable")
weft_rust_guest(panic_main EXIT 134
  STDERR_REGEX "thread 'main'( \\([0-9]+\\))? panicked at src/bin/panic_main.rs:[0-9]+:[0-9]+:.index out of bounds: the len is 0 but the index is 3.*thread 0 trapped.*unreachable")
list(REMOVE_DUPLICATES _rust_guest_bins)

# Can this machine build them? cargo, and the target's standard library in
# rustc's sysroot (what `rustup target add wasm32-wasip1-threads` installs).
set(WEFT_HAVE_RUST_GUESTS OFF)
set(_rust_skip_reason "cargo not found")
find_program(WEFT_RUSTC_EXECUTABLE rustc HINTS "$ENV{HOME}/.cargo/bin")
if(CARGO_EXECUTABLE AND WEFT_RUSTC_EXECUTABLE)
  execute_process(COMMAND "${WEFT_RUSTC_EXECUTABLE}" --print sysroot
    OUTPUT_VARIABLE _rust_sysroot OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc ERROR_QUIET)
  if(_rc EQUAL 0 AND IS_DIRECTORY "${_rust_sysroot}/lib/rustlib/${_rust_guest_target}/lib")
    set(WEFT_HAVE_RUST_GUESTS ON)
  else()
    set(_rust_skip_reason "no Rust target ${_rust_guest_target} (rustup target add ${_rust_guest_target})")
  endif()
endif()
if(NOT WEFT_BUILD_CLI)
  set(WEFT_HAVE_RUST_GUESTS OFF)
  set(_rust_skip_reason "weft-run is not built (WEFT_BUILD_CLI=OFF)")
endif()
option(WEFT_RUST_GUESTS "Build the Rust test guests and run them as ctests rust_guest_*" ON)
if(NOT WEFT_RUST_GUESTS)
  set(WEFT_HAVE_RUST_GUESTS OFF)
  set(_rust_skip_reason "WEFT_RUST_GUESTS=OFF")
endif()
message(STATUS "weft: Rust guests (${_rust_guest_target}): ${WEFT_HAVE_RUST_GUESTS}")

if(NOT WEFT_HAVE_RUST_GUESTS)
  foreach(t IN LISTS _rust_guest_tests ITEMS imports_shared_memory)
    add_test(NAME rust_guest_${t}
      COMMAND sh -c "echo \"skipped: $0\"; exit 77" "${_rust_skip_reason}")
    set_tests_properties(rust_guest_${t} PROPERTIES LABELS rust_guests SKIP_RETURN_CODE 77)
  endforeach()
  return()
endif()

# --- build ---------------------------------------------------------------
set(_rust_cargo_dir "${WEFT_RUST_GUEST_DIR}/cargo")
set(_rust_out "${_rust_cargo_dir}/${_rust_guest_target}/release")
file(GLOB _rust_guest_sources CONFIGURE_DEPENDS "${WEFT_RUST_GUEST_SRC}/src/*.rs" "${WEFT_RUST_GUEST_SRC}/src/bin/*.rs")
set(_rust_wasms)
set(_rust_copies)
foreach(b IN LISTS _rust_guest_bins)
  list(APPEND _rust_wasms "${WEFT_RUST_GUEST_DIR}/${b}.wasm")
  list(APPEND _rust_copies COMMAND ${CMAKE_COMMAND} -E copy_if_different
    "${_rust_out}/${b}.wasm" "${WEFT_RUST_GUEST_DIR}/${b}.wasm")
endforeach()
add_custom_command(OUTPUT ${_rust_wasms}
  COMMAND ${CARGO_EXECUTABLE} build --release --locked --target ${_rust_guest_target}
          --manifest-path "${WEFT_RUST_GUEST_SRC}/Cargo.toml" --target-dir "${_rust_cargo_dir}"
  ${_rust_copies}
  DEPENDS ${_rust_guest_sources} "${WEFT_RUST_GUEST_SRC}/Cargo.toml" "${WEFT_RUST_GUEST_SRC}/Cargo.lock"
  WORKING_DIRECTORY "${WEFT_RUST_GUEST_SRC}"
  COMMENT "cargo build --release --target ${_rust_guest_target} (Rust test guests)"
  USES_TERMINAL VERBATIM)
add_custom_target(rust_guests ALL DEPENDS ${_rust_wasms})

# --- tests ---------------------------------------------------------------
file(MAKE_DIRECTORY "${_rust_fs_dir}")
set(_run_and_check "${PROJECT_SOURCE_DIR}/cmake/RunAndCheck.cmake")
foreach(t IN LISTS _rust_guest_tests)
  set(defs "-DEXIT=${_rust_guest_${t}_EXIT}"
           "-DSTDOUT_FILE=${WEFT_RUST_GUEST_SRC}/expected/${t}.stdout")
  if(_rust_guest_${t}_STDERR_REGEX)
    list(APPEND defs "-DSTDERR_REGEX=${_rust_guest_${t}_STDERR_REGEX}")
  endif()
  add_test(NAME rust_guest_${t}
    COMMAND ${CMAKE_COMMAND} ${defs} -P "${_run_and_check}" --
            $<TARGET_FILE:weft-run> --timeout 60s ${_rust_guest_${t}_WEFT_ARGS}
            "${WEFT_RUST_GUEST_DIR}/${_rust_guest_${t}_GUEST}.wasm" ${_rust_guest_${t}_ARGS})
  set_tests_properties(rust_guest_${t} PROPERTIES LABELS rust_guests TIMEOUT 120)
  if(_rust_guest_${t}_ENV)
    set_tests_properties(rust_guest_${t} PROPERTIES
      ENVIRONMENT_MODIFICATION "${_rust_guest_${t}_ENV}")
  endif()
  # The same run under the race detector finds no race (a race would make
  # the exit status 66; README "Finding data races").
  add_test(NAME race_free_rust_guest_${t}
    COMMAND ${CMAKE_COMMAND} ${defs} -P "${_run_and_check}" --
            $<TARGET_FILE:weft-run> --timeout 900s --detect-races=fail ${_rust_guest_${t}_WEFT_ARGS}
            "${WEFT_RUST_GUEST_DIR}/${_rust_guest_${t}_GUEST}.wasm" ${_rust_guest_${t}_ARGS})
  set_tests_properties(race_free_rust_guest_${t} PROPERTIES LABELS races TIMEOUT 1200)
  if(_rust_guest_${t}_ENV)
    set_tests_properties(race_free_rust_guest_${t} PROPERTIES
      ENVIRONMENT_MODIFICATION "${_rust_guest_${t}_ENV}")
  endif()
endforeach()

# Every guest imports a shared memory (rustc links this target with
# --import-memory --shared-memory); a guest that defined its own would run
# each thread on a private copy.
find_program(WEFT_WASM_OBJDUMP wasm-objdump)
if(WEFT_WASM_OBJDUMP)
  add_test(NAME rust_guest_imports_shared_memory
    COMMAND ${CMAKE_COMMAND} "-DOBJDUMP=${WEFT_WASM_OBJDUMP}" "-DDIR=${WEFT_RUST_GUEST_DIR}"
            "-DGUESTS=${_rust_guest_bins}" -P "${PROJECT_SOURCE_DIR}/cmake/CheckImportsMemory.cmake")
else()
  add_test(NAME rust_guest_imports_shared_memory
    COMMAND sh -c "echo 'skipped: wasm-objdump (wabt) not found'; exit 77")
endif()
set_tests_properties(rust_guest_imports_shared_memory PROPERTIES LABELS rust_guests SKIP_RETURN_CODE 77 TIMEOUT 60)
