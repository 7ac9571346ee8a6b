# weft_add_wasm_guest(): build a WebAssembly guest from C sources with a
# wasi-sdk (>= 20). Installed with the weft CMake package (find_package(weft)
# includes it) and used by weft's own tests.
#
#   weft_add_wasm_guest(<target>
#     SOURCES <file>...              C sources (required)
#     [THREADS]                      a pthread guest for wasi-threads (weft)
#     [MAX_MEMORY <bytes>]           THREADS: the shared memory's maximum
#                                    (default 67108864 = 64 MiB; a multiple
#                                    of 65536)
#     [OUTPUT_NAME <name>]           file name without .wasm (default <target>)
#     [OUTPUT_DIRECTORY <dir>]       default ${CMAKE_CURRENT_BINARY_DIR}
#     [INCLUDE_DIRECTORIES <dir>...]
#     [COMPILE_DEFINITIONS <def>...] NAME or NAME=VALUE, without -D
#     [COMPILE_OPTIONS <opt>...]     after the defaults (-O2), so they win
#     [LINK_OPTIONS <opt>...]        clang driver options, e.g. -Wl,-z,stack-size=N
#     [DEPENDS <file-or-target>...]) rebuild when these change
#
# Creates a custom target <target> (built by `all`) whose output is
# <dir>/<name>.wasm; the path is in the target property WEFT_WASM_FILE:
#
#   add_test(NAME t COMMAND weft-run $<TARGET_PROPERTY:<target>,WEFT_WASM_FILE>)
#
# The toolchain is ${WASI_SDK_PATH} (a CMake variable, default the
# environment variable WASI_SDK_PATH): its bin/clang and share/wasi-sysroot.
# WEFT_WASI_SDK_FOUND tells whether one was found; without it the function
# stops with an error, so check the variable first where a guest is optional.
#
# THREADS compiles and links with
#   --target=wasm32-wasip1-threads -pthread
#   -Wl,--import-memory,--export-memory,--max-memory=<MAX_MEMORY>
# (the flags of wasi-sdk's own wasi-sdk-pthread.cmake). --import-memory is
# the one that matters: without it the module *defines* its shared memory,
# and a wasi-threads host instantiates each thread with a memory of its own,
# so the threads never see each other's writes. Without THREADS the guest is
# an ordinary single-threaded --target=wasm32-wasip1 program.

set(WASI_SDK_PATH "$ENV{WASI_SDK_PATH}" CACHE PATH "A wasi-sdk (>= 20) for building WebAssembly guests")
# A cache entry left empty by an earlier configure still follows the environment.
if(NOT WASI_SDK_PATH AND NOT "$ENV{WASI_SDK_PATH}" STREQUAL "")
  set(WASI_SDK_PATH "$ENV{WASI_SDK_PATH}" CACHE PATH "A wasi-sdk (>= 20) for building WebAssembly guests" FORCE)
endif()

set(WEFT_WASI_SDK_FOUND OFF)
if(WASI_SDK_PATH AND EXISTS "${WASI_SDK_PATH}/bin/clang" AND EXISTS "${WASI_SDK_PATH}/share/wasi-sysroot")
  set(WEFT_WASI_SDK_FOUND ON)
endif()

function(weft_add_wasm_guest target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "THREADS" "MAX_MEMORY;OUTPUT_NAME;OUTPUT_DIRECTORY"
    "SOURCES;INCLUDE_DIRECTORIES;COMPILE_DEFINITIONS;COMPILE_OPTIONS;LINK_OPTIONS;DEPENDS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "weft_add_wasm_guest(${target}): unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "weft_add_wasm_guest(${target}): SOURCES is required")
  endif()
  if(NOT WASI_SDK_PATH OR NOT EXISTS "${WASI_SDK_PATH}/bin/clang" OR NOT EXISTS "${WASI_SDK_PATH}/share/wasi-sysroot")
    message(FATAL_ERROR "weft_add_wasm_guest(${target}): WASI_SDK_PATH='${WASI_SDK_PATH}' is not a wasi-sdk "
      "(needs bin/clang and share/wasi-sysroot); set it with -DWASI_SDK_PATH=... or the environment variable")
  endif()
  if(NOT arg_OUTPUT_NAME)
    set(arg_OUTPUT_NAME "${target}")
  endif()
  if(NOT arg_OUTPUT_DIRECTORY)
    set(arg_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
  endif()

  set(clang "${WASI_SDK_PATH}/bin/clang")
  set(common "--sysroot=${WASI_SDK_PATH}/share/wasi-sysroot")
  if(arg_THREADS)
    if(NOT arg_MAX_MEMORY)
      set(arg_MAX_MEMORY 67108864)
    endif()
    math(EXPR pages "${arg_MAX_MEMORY} / 65536")
    math(EXPR whole "${pages} * 65536")
    if(NOT whole EQUAL arg_MAX_MEMORY OR pages LESS 1)
      message(FATAL_ERROR "weft_add_wasm_guest(${target}): MAX_MEMORY ${arg_MAX_MEMORY} is not a positive multiple of 65536")
    endif()
    list(APPEND common --target=wasm32-wasip1-threads -pthread)
    set(link_flags "-Wl,--import-memory,--export-memory,--max-memory=${arg_MAX_MEMORY}")
  else()
    if(arg_MAX_MEMORY)
      message(FATAL_ERROR "weft_add_wasm_guest(${target}): MAX_MEMORY needs THREADS (use LINK_OPTIONS -Wl,--max-memory=N)")
    endif()
    list(APPEND common --target=wasm32-wasip1)
    set(link_flags)
  endif()
  set(cflags -O2)
  foreach(dir IN LISTS arg_INCLUDE_DIRECTORIES)
    get_filename_component(dir "${dir}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND cflags "-I${dir}")
  endforeach()
  foreach(def IN LISTS arg_COMPILE_DEFINITIONS)
    list(APPEND cflags "-D${def}")
  endforeach()
  list(APPEND cflags ${arg_COMPILE_OPTIONS})

  # One object per source (parallel and incremental builds), with a depfile
  # so that edited headers rebuild.
  set(obj_dir "${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/${target}.wasm-obj")
  set(objs)
  set(i 0)
  foreach(src IN LISTS arg_SOURCES)
    get_filename_component(src "${src}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    get_filename_component(stem "${src}" NAME_WE)
    set(obj "${obj_dir}/${i}-${stem}.o")
    add_custom_command(OUTPUT "${obj}"
      COMMAND "${CMAKE_COMMAND}" -E make_directory "${obj_dir}"
      COMMAND "${clang}" ${common} ${cflags} -MD -MF "${obj}.d" -c "${src}" -o "${obj}"
      DEPENDS "${src}" ${arg_DEPENDS}
      DEPFILE "${obj}.d"
      COMMENT "wasm clang ${target}: ${stem}.c"
      VERBATIM COMMAND_EXPAND_LISTS)
    list(APPEND objs "${obj}")
    math(EXPR i "${i} + 1")
  endforeach()

  set(out "${arg_OUTPUT_DIRECTORY}/${arg_OUTPUT_NAME}.wasm")
  add_custom_command(OUTPUT "${out}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${arg_OUTPUT_DIRECTORY}"
    COMMAND "${clang}" ${common} ${link_flags} ${arg_LINK_OPTIONS} ${objs} -o "${out}"
    DEPENDS ${objs}
    COMMENT "wasm link ${arg_OUTPUT_NAME}.wasm"
    VERBATIM COMMAND_EXPAND_LISTS)
  add_custom_target(${target} ALL DEPENDS "${out}")
  set_target_properties(${target} PROPERTIES WEFT_WASM_FILE "${out}")
endfunction()
