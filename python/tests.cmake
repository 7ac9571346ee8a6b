# Registers the Python package's test suite (python/tests, pytest) as the
# ctest `python_pytest`: python/run_tests.py makes a fresh venv under the build
# directory, `pip install`s python/ with the libweft.so CMake built (nothing is
# compiled twice), installs pytest from PyPI and runs the suite.
# Included from c-tests/CMakeLists.txt.
find_package(Python3 3.8 COMPONENTS Interpreter)
if(Python3_FOUND)
  set(_weft_py_env
    "WEFT_TEST_CARGO_TARGET_DIR=${CMAKE_BINARY_DIR}/python/cargo"
    "WEFT_TEST_CARGO=${CARGO_EXECUTABLE}")
  # Where the toolchains exist, the guest tests must run, not skip.
  if(WEFT_HAVE_PTHREAD_GUESTS)
    list(APPEND _weft_py_env "WASI_SDK_PATH=${WASI_SDK_PATH}" "WEFT_TEST_REQUIRE_PTHREAD=1")
  endif()
  get_filename_component(_weft_cargo_bin "${CARGO_EXECUTABLE}" DIRECTORY)
  find_program(_weft_rustc rustc HINTS "${_weft_cargo_bin}")
  if(_weft_rustc)
    execute_process(COMMAND "${_weft_rustc}" --print sysroot
      OUTPUT_VARIABLE _weft_sysroot OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(IS_DIRECTORY "${_weft_sysroot}/lib/rustlib/wasm32-wasip1-threads")
      list(APPEND _weft_py_env "WEFT_TEST_REQUIRE_RUST=1")
    endif()
  endif()
  add_test(NAME python_pytest
    COMMAND "${Python3_EXECUTABLE}" "${PROJECT_SOURCE_DIR}/python/run_tests.py"
            --venv "${CMAKE_BINARY_DIR}/python/venv" --library "${WEFT_SHARED_REAL}")
  set_tests_properties(python_pytest PROPERTIES
    LABELS python TIMEOUT 600 ENVIRONMENT "${_weft_py_env}")
else()
  message(STATUS "weft: no Python 3 interpreter: the Python tests (python_pytest) are not registered")
endif()
