/* A host that reaches weft only through dlopen/dlsym (as Python, C#, Go or
 * Java FFM do): no link-time dependency on libweft. */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>

#include "check.h"

/* Function pointer types taken from the header's declarations. */
#define SYM(name) static __typeof__(&name) p_##name
#define LOAD(name) load_sym(lib, #name, &p_##name, sizeof p_##name)

static void load_sym(void *lib, const char *name, void *dst, size_t size)
{
    /* POSIX guarantees dlsym's result converts to a function pointer; copy
     * the bytes so ISO C's pedantic rule on that conversion is not broken. */
    void *sym = dlsym(lib, name);
    if (!sym) {
        fprintf(stderr, "dlsym(%s): %s\n", name, dlerror());
        exit(1);
    }
    memcpy(dst, &sym, size);
}

int main(int argc, char **argv)
{
    static const char wat[] =
        "(module (import \"wasi\" \"thread-spawn\" (func $spawn (param i32) (result i32)))"
        " (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $exit (param i32)))"
        " (import \"env\" \"memory\" (memory 1 1 shared))"
        " (func (export \"wasi_thread_start\") (param i32 i32) (call $exit (local.get 1)))"
        " (func (export \"_start\") (drop (call $spawn (i32.const 33))) (loop $l (br $l))))";
    const char *path = argc > 1 ? argv[1] : WEFT_SHARED_LIBRARY;
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    weft_engine_t *engine = NULL;
    weft_module_t *module = NULL;
    weft_instance_t *inst = NULL;
    weft_error_t *err;
    int32_t code = -1;
    SYM(weft_version);
    SYM(weft_engine_new);
    SYM(weft_engine_delete);
    SYM(weft_module_new);
    SYM(weft_module_delete);
    SYM(weft_instance_new);
    SYM(weft_instance_run);
    SYM(weft_instance_delete);
    SYM(weft_error_message);
    SYM(weft_error_delete);

    if (!lib) {
        fprintf(stderr, "dlopen(%s): %s\n", path, dlerror());
        return 1;
    }
    LOAD(weft_version);
    LOAD(weft_engine_new);
    LOAD(weft_engine_delete);
    LOAD(weft_module_new);
    LOAD(weft_module_delete);
    LOAD(weft_instance_new);
    LOAD(weft_instance_run);
    LOAD(weft_instance_delete);
    LOAD(weft_error_message);
    LOAD(weft_error_delete);
    /* Nothing with a wasm_/wasmtime_/wasi_ prefix leaks out of the library. */
    CHECK(dlsym(lib, "wasm_engine_new") == NULL);
    CHECK(dlsym(lib, "wasmtime_store_new") == NULL);

    CHECK(strcmp(p_weft_version(), WEFT_VERSION_STRING) == 0);
    if ((err = p_weft_engine_new(NULL, &engine)) ||
        (err = p_weft_module_new(engine, (const uint8_t *)wat, strlen(wat), &module)) ||
        (err = p_weft_instance_new(module, NULL, NULL, &inst)) || (err = p_weft_instance_run(inst, &code))) {
        fprintf(stderr, "error: %s\n", p_weft_error_message(err));
        p_weft_error_delete(err);
        return 1;
    }
    CHECK(code == 33);
    p_weft_instance_delete(inst);
    p_weft_module_delete(module);
    p_weft_engine_delete(engine);
    CHECK(dlclose(lib) == 0);
    printf("dlopen ok: weft %s, exit code %d from a child thread\n", WEFT_VERSION_STRING, (int)code);
    return 0;
}
