# Builds the Rust library with cargo and exposes it as two imported targets:
#   weft::weft         the shared library (SONAME libweft.so.<major>)
#   weft::weft_static  the static library plus the native libraries it needs
#
# cargo does its own dependency tracking, so the build step always runs it
# (a no-op build takes well under a second) and then copies the results into
# ${WEFT_STAGE_DIR} only when they changed. Tests and consumers link the
# staged copies, never cargo's own output, so a concurrent `cargo test` (which
# rebuilds target/<profile>/libweft.so without a SONAME) cannot pull the
# library out from under a running C test.

find_program(CARGO_EXECUTABLE cargo HINTS "$ENV{HOME}/.cargo/bin" REQUIRED)

set(WEFT_CARGO_TARGET_DIR "" CACHE PATH
  "cargo's target directory (default: <build>/cargo). Point it at an existing one (e.g. <source>/target) to reuse a built Wasmtime.")
if(NOT WEFT_CARGO_TARGET_DIR)
  set(WEFT_CARGO_TARGET_DIR "${CMAKE_BINARY_DIR}/cargo")
endif()

# Debug maps to cargo's dev profile (dependencies are optimised anyway, see
# Cargo.toml); every other build type to release.
if(CMAKE_BUILD_TYPE STREQUAL "Debug" OR CMAKE_BUILD_TYPE STREQUAL "")
  set(WEFT_CARGO_PROFILE dev)
  set(_weft_profile_dir debug)
else()
  set(WEFT_CARGO_PROFILE release)
  set(_weft_profile_dir release)
endif()

set(WEFT_STAGE_DIR "${CMAKE_BINARY_DIR}/lib")
set(_weft_cargo_out "${WEFT_CARGO_TARGET_DIR}/${_weft_profile_dir}")
set(WEFT_SONAME "libweft.so.${PROJECT_VERSION_MAJOR}")
set(WEFT_SHARED_REAL "${WEFT_STAGE_DIR}/libweft.so.${PROJECT_VERSION}")
set(WEFT_SHARED_SONAME "${WEFT_STAGE_DIR}/${WEFT_SONAME}")
set(WEFT_SHARED_LINK "${WEFT_STAGE_DIR}/libweft.so")
set(WEFT_STATIC "${WEFT_STAGE_DIR}/libweft.a")

# What `cargo rustc -- --print native-static-libs` reports on Linux.
set(WEFT_STATIC_NATIVE_LIBS gcc_s util rt pthread m dl c)

file(MAKE_DIRECTORY "${WEFT_STAGE_DIR}")

# `cargo rustc` passes the SONAME to the final link of our crate only, so the
# dependency tree is shared with `cargo build`/`cargo test` and is not rebuilt.
add_custom_target(weft_cargo ALL
  COMMAND ${CMAKE_COMMAND} -E env "CARGO_TARGET_DIR=${WEFT_CARGO_TARGET_DIR}"
          ${CARGO_EXECUTABLE} rustc --locked --lib --profile ${WEFT_CARGO_PROFILE}
          --crate-type cdylib,staticlib
          -- -C link-arg=-Wl,-soname,${WEFT_SONAME}
  COMMAND ${CMAKE_COMMAND} -E copy_if_different "${_weft_cargo_out}/libweft.so" "${WEFT_SHARED_REAL}"
  COMMAND ${CMAKE_COMMAND} -E copy_if_different "${_weft_cargo_out}/libweft.a" "${WEFT_STATIC}"
  COMMAND ${CMAKE_COMMAND} -E create_symlink "libweft.so.${PROJECT_VERSION}" "${WEFT_SHARED_SONAME}"
  COMMAND ${CMAKE_COMMAND} -E create_symlink "${WEFT_SONAME}" "${WEFT_SHARED_LINK}"
  BYPRODUCTS "${WEFT_SHARED_REAL}" "${WEFT_SHARED_SONAME}" "${WEFT_SHARED_LINK}" "${WEFT_STATIC}"
  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
  COMMENT "cargo rustc --profile ${WEFT_CARGO_PROFILE} (target dir ${WEFT_CARGO_TARGET_DIR})"
  USES_TERMINAL
  VERBATIM)

add_library(weft::weft SHARED IMPORTED GLOBAL)
set_target_properties(weft::weft PROPERTIES
  IMPORTED_LOCATION "${WEFT_SHARED_REAL}"
  IMPORTED_SONAME "${WEFT_SONAME}"
  INTERFACE_INCLUDE_DIRECTORIES "${PROJECT_SOURCE_DIR}/include")
add_dependencies(weft::weft weft_cargo)

add_library(weft::weft_static STATIC IMPORTED GLOBAL)
set_target_properties(weft::weft_static PROPERTIES
  IMPORTED_LOCATION "${WEFT_STATIC}"
  IMPORTED_LINK_INTERFACE_LANGUAGES C
  INTERFACE_INCLUDE_DIRECTORIES "${PROJECT_SOURCE_DIR}/include"
  INTERFACE_LINK_LIBRARIES "${WEFT_STATIC_NATIVE_LIBS}")
add_dependencies(weft::weft_static weft_cargo)
