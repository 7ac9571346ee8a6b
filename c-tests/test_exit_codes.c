/* Exit codes: proc_exit from the main thread or a child, _start returning,
 * and a child parked in an untimed atomic wait when main exits. */
#include "check.h"

static weft_error_t *mode_cb(void *env, const weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                             weft_val_t *results, size_t nresults)
{
    (void)caller, (void)args, (void)nargs, (void)nresults;
    results[0].of.i32 = *(const int32_t *)env;
    return NULL;
}

static void expect_exit(const weft_module_t *module, int32_t mode, int32_t want)
{
    uint32_t i32 = WEFT_I32;
    weft_host_funcs_t *funcs = weft_host_funcs_new();
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    bool finished = false;
    CHECK_OK(weft_host_funcs_define(funcs, "test", 4, "mode", 4, NULL, 0, &i32, 1, mode_cb, &mode, NULL));
    CHECK_OK(weft_instance_new(module, NULL, funcs, &inst));
    CHECK_OK(weft_instance_run(inst, &code));
    if (code != want) {
        fprintf(stderr, "mode %d: exit %d, expected %d\n", (int)mode, (int)code, (int)want);
        exit(1);
    }
    /* The outcome stays available and a second run is refused. */
    CHECK_OK(weft_instance_wait(inst, 0, &finished, &code));
    CHECK(finished && code == want);
    {
        weft_error_t *err = weft_instance_run(inst, &code);
        CHECK(err != NULL);
        CHECK(weft_error_kind(err) == WEFT_ERROR_STATE);
        weft_error_delete(err);
    }
    weft_instance_delete(inst);
    weft_host_funcs_delete(funcs);
    printf("mode %d -> exit %d ok\n", (int)mode, (int)want);
}

int main(void)
{
    weft_engine_t *engine = new_engine(NULL);
    weft_module_t *module = load_guest(engine, "outcomes.wat");
    expect_exit(module, 1, 7); /* main: proc_exit(7) while a child spins */
    expect_exit(module, 2, 9); /* child: proc_exit(9) while main spins */
    expect_exit(module, 3, 0); /* _start returns while a child spins */
    expect_exit(module, 7, 3); /* main exits; a child is in an untimed wait */
    weft_module_delete(module);
    weft_engine_delete(engine);
    return 0;
}
