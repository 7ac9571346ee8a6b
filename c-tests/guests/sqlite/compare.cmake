# Runs the SQLite driver natively and as a wasm guest under weft-run, each on
# a fresh directory, and requires both to succeed with byte-identical reports.
#   cmake -DWEFT_RUN=... -DGUEST=sqlite.wasm -DNATIVE=driver -DWORK_DIR=... -P compare.cmake
# [-DWEFT_ARGS=<weft-run options, ;-separated>] [-DTIMEOUT=<weft-run --timeout, default 240s>]
if(NOT TIMEOUT)
  set(TIMEOUT 240s)
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/native" "${WORK_DIR}/wasm")

execute_process(COMMAND "${NATIVE}" "${WORK_DIR}/native"
  RESULT_VARIABLE native_rc OUTPUT_VARIABLE native_out ERROR_VARIABLE native_err)
execute_process(COMMAND "${WEFT_RUN}" --timeout ${TIMEOUT} ${WEFT_ARGS} --dir "${WORK_DIR}/wasm::/data" "${GUEST}" /data
  RESULT_VARIABLE wasm_rc OUTPUT_VARIABLE wasm_out ERROR_VARIABLE wasm_err)
file(WRITE "${WORK_DIR}/native.txt" "${native_out}")
file(WRITE "${WORK_DIR}/wasm.txt" "${wasm_out}")

set(report "--- native (exit ${native_rc})\n${native_out}${native_err}--- wasm under weft (exit ${wasm_rc})\n${wasm_out}${wasm_err}---")
if(NOT native_rc EQUAL 0 OR NOT wasm_rc EQUAL 0)
  message(FATAL_ERROR "FAILED: a driver did not exit 0\n${report}")
endif()
if(NOT native_out MATCHES "integrity_check:\n  ok\nfailures: 0\n$")
  message(FATAL_ERROR "FAILED: the native report is not a clean one\n${report}")
endif()
if(NOT wasm_out STREQUAL native_out)
  message(FATAL_ERROR "FAILED: the reports differ (${WORK_DIR}/native.txt, ${WORK_DIR}/wasm.txt)\n${report}")
endif()
message("the wasm and native reports are identical\n${wasm_out}")
