/* Traps: a trap in a child or in main ends the program with
 * WEFT_ERROR_TRAP, the trapping TID and a wasm backtrace; the host carries on. */
#include "check.h"

static weft_error_t *mode_cb(void *env, const weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                             weft_val_t *results, size_t nresults)
{
    (void)caller, (void)args, (void)nargs, (void)nresults;
    results[0].of.i32 = *(const int32_t *)env;
    return NULL;
}

static weft_error_t *fail_cb(void *env, const weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                             weft_val_t *results, size_t nresults)
{
    (void)env, (void)caller, (void)args, (void)nargs, (void)results, (void)nresults;
    return weft_error_new("host says no", 12);
}

static void expect_trap(const weft_module_t *module, int32_t mode, int child, const char *frame)
{
    uint32_t i32 = WEFT_I32, tid = 12345;
    weft_host_funcs_t *funcs = weft_host_funcs_new();
    weft_instance_t *inst = NULL;
    weft_error_t *err;
    int32_t code = -1;
    CHECK_OK(weft_host_funcs_define(funcs, "test", 4, "mode", 4, NULL, 0, &i32, 1, mode_cb, &mode, NULL));
    CHECK_OK(weft_instance_new(module, NULL, funcs, &inst));
    err = weft_instance_run(inst, &code);
    CHECK(err != NULL);
    CHECK(weft_error_kind(err) == WEFT_ERROR_TRAP);
    CHECK(weft_error_trap_tid(err, &tid));
    CHECK(child ? (tid >= 1 && tid <= 0x1FFFFFFF) : tid == 0);
    if (!strstr(weft_error_backtrace(err), frame)) {
        fprintf(stderr, "mode %d: backtrace lacks %s:\n%s\nmessage: %s\n", (int)mode, frame,
                weft_error_backtrace(err), weft_error_message(err));
        exit(1);
    }
    CHECK(strstr(weft_error_message(err), "unreachable") != NULL);
    CHECK(!weft_error_exit_code(err, &code));
    weft_error_delete(err);
    weft_instance_delete(inst);
    weft_host_funcs_delete(funcs);
    printf("mode %d: trap in tid %u ok\n", (int)mode, (unsigned)tid);
}

/* A host function that returns an error traps its calling thread. */
static void host_error_traps(weft_engine_t *engine)
{
    static const char wat[] =
        "(module (import \"h\" \"f\" (func $f))"
        " (import \"env\" \"memory\" (memory 1 1 shared))"
        " (func (export \"_start\") (call $f)))";
    weft_module_t *module = NULL;
    weft_host_funcs_t *funcs = weft_host_funcs_new();
    weft_instance_t *inst = NULL;
    weft_error_t *err;
    int32_t code;
    uint32_t tid = 99;
    CHECK_OK(weft_module_new(engine, (const uint8_t *)wat, strlen(wat), &module));
    CHECK_OK(weft_host_funcs_define(funcs, "h", 1, "f", 1, NULL, 0, NULL, 0, fail_cb, NULL, NULL));
    CHECK_OK(weft_instance_new(module, NULL, funcs, &inst));
    err = weft_instance_run(inst, &code);
    CHECK(err != NULL && weft_error_kind(err) == WEFT_ERROR_TRAP);
    CHECK(weft_error_trap_tid(err, &tid) && tid == 0);
    CHECK(strstr(weft_error_message(err), "host says no") != NULL);
    weft_error_delete(err);
    weft_instance_delete(inst);
    weft_host_funcs_delete(funcs);
    weft_module_delete(module);
    printf("host error traps ok\n");
}

int main(void)
{
    weft_engine_t *engine = new_engine(NULL);
    weft_module_t *module = load_guest(engine, "outcomes.wat");
    for (int round = 0; round < 3; round++) {
        expect_trap(module, 4, 1, "child_traps");
        expect_trap(module, 5, 0, "main_traps");
    }
    host_error_traps(engine);
    weft_module_delete(module);
    weft_engine_delete(engine);
    return 0;
}
