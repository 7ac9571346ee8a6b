# Checks that each guest imports a shared memory and defines none:
#   cmake -DOBJDUMP=<wasm-objdump> -DDIR=<dir> -DGUESTS=<a;b;...> -P CheckImportsMemory.cmake
# Used by ctest for guests whose threads must all see one memory.
set(failures)
foreach(g IN LISTS GUESTS)
  execute_process(COMMAND "${OBJDUMP}" -x "${DIR}/${g}.wasm"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(APPEND failures "${g}: wasm-objdump failed: ${err}")
  elseif(NOT out MATCHES "- memory\\[0\\] pages: initial=[0-9]+ max=[0-9]+ shared <- env\\.memory")
    list(APPEND failures "${g}: no imported shared memory:\n${out}")
  elseif(out MATCHES "\nMemory\\[")
    list(APPEND failures "${g}: defines a memory of its own:\n${out}")
  else()
    string(REGEX MATCH "memory\\[0\\] pages: [^\n]*" line "${out}")
    message("${g}: ${line}")
  endif()
endforeach()
if(failures)
  list(JOIN failures "\n" f)
  message(FATAL_ERROR "${f}")
endif()
