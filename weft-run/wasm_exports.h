/* Reads an exported function's result types from a binary module, because
 * the C API cannot report an export's signature before calling it. */
#ifndef WEFT_RUN_WASM_EXPORTS_H
#define WEFT_RUN_WASM_EXPORTS_H

#include <stddef.h>
#include <stdint.h>

/* Finds exported function `name` in the binary module `wasm` and writes its
 * result count to *nresults. Returns 0 on success, -1 if `wasm` is not a
 * binary module (e.g. WAT text) or is malformed, -2 if there is no such
 * exported function. */
int wasm_export_result_count(const uint8_t *wasm, size_t len, const char *name, size_t *nresults);



/* The same for a binary module or WAT text (a simple scan: inline
 * `(func (export "name") ... (result ...))` or `(export "name" (func $id))`). */
int wat_or_wasm_export_result_count(const uint8_t *wasm, size_t len, const char *name, size_t *nresults);
#endif
