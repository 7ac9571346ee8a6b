/* Bad input gives an error of the right kind, never a crash: NULL pointers,
 * invalid UTF-8, garbage modules, unsatisfiable imports, misuse. */
#include "check.h"

static weft_error_t *noop_cb(void *env, const weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                             weft_val_t *results, size_t nresults)
{
    (void)env, (void)caller, (void)args, (void)nargs, (void)results, (void)nresults;
    return NULL;
}

static const char garbage[] = "\0asm\x01\0\0\0\xff\xff\xff";

int main(void)
{
    weft_config_t *config = weft_config_new();
    weft_engine_t *engine = NULL;
    weft_module_t *module = NULL;
    weft_instance_t *inst = NULL;
    weft_wasi_config_t *wasi = weft_wasi_config_new();
    weft_host_funcs_t *funcs = weft_host_funcs_new();
    weft_error_t *err;
    int32_t code;
    uint32_t i32 = WEFT_I32;

    /* Versions: header and library agree, and the combined macro is right. */
    CHECK(WEFT_VERSION == WEFT_VERSION_MAJOR * 10000 + WEFT_VERSION_MINOR * 100 + WEFT_VERSION_PATCH);
    CHECK(strcmp(weft_version(), WEFT_VERSION_STRING) == 0);
    {
        char buf[32];
        snprintf(buf, sizeof buf, "%d.%d.%d", WEFT_VERSION_MAJOR, WEFT_VERSION_MINOR, WEFT_VERSION_PATCH);
        CHECK(strcmp(buf, WEFT_VERSION_STRING) == 0);
    }

    /* delete(NULL) is a no-op everywhere. */
    weft_config_delete(NULL);
    weft_engine_delete(NULL);
    weft_module_delete(NULL);
    weft_instance_delete(NULL);
    weft_wasi_config_delete(NULL);
    weft_host_funcs_delete(NULL);
    weft_error_delete(NULL);
    weft_bytes_free(NULL, 0);
    CHECK(weft_engine_clone(NULL) == NULL && weft_module_clone(NULL) == NULL);
    CHECK(weft_error_kind(NULL) == WEFT_ERROR_NULL_ARGUMENT);
    CHECK(strcmp(weft_error_message(NULL), "") == 0);
    CHECK(!weft_module_uses_threads(NULL));

    /* NULL arguments. */
    CHECK_ERR(weft_engine_new(NULL, NULL), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_config_set_max_threads(NULL, 4), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_OK(weft_engine_new(config, &engine));
    CHECK_ERR(weft_module_new(NULL, (const uint8_t *)"", 0, &module), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_module_new(engine, NULL, 10, &module), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_module_new(engine, (const uint8_t *)"(module)", 8, NULL), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_instance_new(NULL, NULL, NULL, &inst), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_instance_run(NULL, &code), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_instance_interrupt(NULL), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_wasi_config_push_arg(NULL, "a", 1), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_wasi_config_push_arg(wasi, NULL, 1), WEFT_ERROR_NULL_ARGUMENT);
    CHECK(module == NULL && inst == NULL);

    /* Invalid UTF-8 and other malformed arguments. */
    CHECK_ERR(weft_wasi_config_push_arg(wasi, "\xc3\x28", 2), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_wasi_config_push_env(wasi, "A\xff", 2, "v", 1), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_wasi_config_push_env(wasi, "", 0, "v", 1), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_wasi_config_push_env(wasi, "A=B", 3, "v", 1), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_wasi_config_set_stdio(wasi, 7, WEFT_STDIO_NULL, NULL, 0), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_wasi_config_set_stdio(wasi, 1, 99, NULL, 0), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_wasi_config_set_stdio(wasi, 0, WEFT_STDIO_CAPTURE, NULL, 0), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_module_new_file(engine, "\xff\xfe", 2, &module), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_host_funcs_define(funcs, "m\xff", 2, "f", 1, NULL, 0, NULL, 0, noop_cb, NULL, NULL),
              WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_host_funcs_define(funcs, "m", 1, "f", 1, NULL, 0, NULL, 0, NULL, NULL, NULL),
              WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_host_funcs_define(funcs, "m", 1, NULL, 1, NULL, 0, NULL, 0, noop_cb, NULL, NULL),
              WEFT_ERROR_NULL_ARGUMENT);

    /* Files and bytes that are not modules. */
    CHECK_ERR(weft_module_new_file(engine, "/nonexistent.wasm", 17, &module), WEFT_ERROR_IO);
    CHECK_ERR(weft_module_new(engine, (const uint8_t *)garbage, sizeof garbage - 1, &module), WEFT_ERROR_COMPILE);
    CHECK_ERR(weft_module_new(engine, (const uint8_t *)"\0asm", 4, &module), WEFT_ERROR_COMPILE);
    CHECK_ERR(weft_module_new(engine, (const uint8_t *)"(module (func", 13, &module), WEFT_ERROR_COMPILE);
    CHECK_ERR(weft_module_new(engine, (const uint8_t *)"hello", 5, &module), WEFT_ERROR_COMPILE);

    /* Imports weft can never satisfy. */
    {
        static const char unshared[] = "(module (import \"env\" \"memory\" (memory 1 1)) "
                                       "(import \"wasi\" \"thread-spawn\" (func (param i32) (result i32))))";
        static const char bad_spawn[] = "(module (import \"env\" \"memory\" (memory 1 1 shared)) "
                                        "(import \"wasi\" \"thread-spawn\" (func (param i64))))";
        static const char unknown[] = "(module (import \"nope\" \"f\" (func)) (func (export \"_start\")))";
        static const char no_start[] = "(module (func (export \"other\")))";
        static const char wrong_host[] = "(module (import \"h\" \"f\" (func (param i64))) (func (export \"_start\")))";
        err = weft_module_new(engine, (const uint8_t *)unshared, strlen(unshared), &module);
        if (err) {
            CHECK_ERR(err, WEFT_ERROR_LINK);
        } else {
            /* Accepted at compile time: it must fail to link. */
            CHECK_ERR(weft_instance_new(module, NULL, NULL, &inst), WEFT_ERROR_LINK);
            weft_module_delete(module);
            module = NULL;
        }
        CHECK_ERR(weft_module_new(engine, (const uint8_t *)bad_spawn, strlen(bad_spawn), &module), WEFT_ERROR_LINK);

        CHECK_OK(weft_module_new(engine, (const uint8_t *)unknown, strlen(unknown), &module));
        CHECK_ERR(weft_instance_new(module, NULL, NULL, &inst), WEFT_ERROR_LINK);
        weft_module_delete(module);

        CHECK_OK(weft_module_new(engine, (const uint8_t *)wrong_host, strlen(wrong_host), &module));
        CHECK_OK(weft_host_funcs_define(funcs, "h", 1, "f", 1, &i32, 1, NULL, 0,
                                        noop_cb, NULL, NULL));
        CHECK_ERR(weft_instance_new(module, NULL, funcs, &inst), WEFT_ERROR_LINK);
        weft_module_delete(module);

        CHECK_OK(weft_module_new(engine, (const uint8_t *)no_start, strlen(no_start), &module));
        CHECK(!weft_module_uses_threads(module));
        CHECK_OK(weft_instance_new(module, NULL, NULL, &inst));
        CHECK_ERR(weft_instance_call(inst, "missing", 7, NULL, 0, NULL, 0), WEFT_ERROR_NOT_FOUND);
        CHECK_ERR(weft_instance_call(inst, "other", 5, NULL, 0, NULL, 1), WEFT_ERROR_NULL_ARGUMENT);
        CHECK_ERR(weft_instance_call(inst, "other\xff", 6, NULL, 0, NULL, 0), WEFT_ERROR_INVALID_ARGUMENT);
        CHECK_ERR(weft_instance_run(inst, &code), WEFT_ERROR_NOT_FOUND);
        weft_instance_delete(inst);
        weft_module_delete(module);
    }

    /* Host errors carry their kind and message. */
    err = weft_error_new("bad \xff", 5);
    CHECK(weft_error_kind(err) == WEFT_ERROR_HOST);
    CHECK(strncmp(weft_error_message(err), "bad ", 4) == 0);
    CHECK(!weft_error_trap_tid(err, &i32));
    CHECK(strcmp(weft_error_backtrace(err), "") == 0);
    weft_error_delete(err);

    weft_host_funcs_delete(funcs);
    weft_wasi_config_delete(wasi);
    weft_engine_delete(engine);
    weft_config_delete(config);
    printf("errors ok\n");
    return 0;
}
