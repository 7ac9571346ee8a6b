/* Interrupt and timeout: start + wait + interrupt from another pthread, and
 * a configured wall-clock timeout, both ending spinning threads promptly. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>

#include "check.h"

static weft_error_t *mode_cb(void *env, const weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                             weft_val_t *results, size_t nresults)
{
    (void)env, (void)caller, (void)args, (void)nargs, (void)nresults;
    results[0].of.i32 = 6; /* everyone spins */
    return NULL;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static void *interrupter(void *arg)
{
    sleep_ms(150);
    CHECK_OK(weft_instance_interrupt((const weft_instance_t *)arg));
    return NULL;
}

static weft_instance_t *spinning_instance(const weft_module_t *module)
{
    uint32_t i32 = WEFT_I32;
    weft_host_funcs_t *funcs = weft_host_funcs_new();
    weft_instance_t *inst = NULL;
    CHECK_OK(weft_host_funcs_define(funcs, "test", 4, "mode", 4, NULL, 0, &i32, 1, mode_cb, NULL, NULL));
    CHECK_OK(weft_instance_new(module, NULL, funcs, &inst));
    weft_host_funcs_delete(funcs);
    return inst;
}

static void interrupt_from_other_thread(const weft_module_t *module)
{
    weft_instance_t *inst = spinning_instance(module);
    pthread_t t;
    bool finished = true;
    int32_t code = -1;
    uint32_t live = 0;
    double t0, elapsed;

    CHECK_OK(weft_instance_start(inst));
    CHECK_ERR(weft_instance_start(inst), WEFT_ERROR_STATE);
    /* Still running after 50 ms. */
    CHECK_OK(weft_instance_wait(inst, 50, &finished, &code));
    CHECK(!finished);
    CHECK_OK(weft_instance_stats(inst, NULL, NULL, &live));
    CHECK(live == 1);
    t0 = now_ms();
    CHECK(pthread_create(&t, NULL, interrupter, inst) == 0);
    CHECK_ERR(weft_instance_wait(inst, WEFT_WAIT_FOREVER, &finished, &code), WEFT_ERROR_INTERRUPTED);
    elapsed = now_ms() - t0;
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_OK(weft_instance_stats(inst, NULL, NULL, &live));
    CHECK(live == 0);
    /* The interrupt arrives after ~150 ms; the program must end soon after. */
    CHECK(elapsed < 150 + 1000);
    /* The outcome is sticky. */
    CHECK_ERR(weft_instance_wait(inst, 0, &finished, &code), WEFT_ERROR_INTERRUPTED);
    weft_instance_delete(inst);
    printf("interrupt ok (%.0f ms after start of wait)\n", elapsed);
}

static void timeout(void)
{
    weft_config_t *config = weft_config_new();
    weft_engine_t *engine;
    weft_module_t *module;
    weft_instance_t *inst;
    int32_t code = -1;
    double t0, elapsed;
    CHECK_OK(weft_config_set_timeout_ms(config, 200));
    engine = new_engine(config);
    weft_config_delete(config);
    module = load_guest(engine, "outcomes.wat");
    inst = spinning_instance(module);
    t0 = now_ms();
    CHECK_ERR(weft_instance_run(inst, &code), WEFT_ERROR_TIMED_OUT);
    elapsed = now_ms() - t0;
    CHECK(elapsed >= 150 && elapsed < 200 + 1000);
    weft_instance_delete(inst);
    weft_module_delete(module);
    weft_engine_delete(engine);
    printf("timeout ok (%.0f ms)\n", elapsed);
}

/* Deleting a running instance interrupts it instead of hanging. */
static void delete_while_running(const weft_module_t *module)
{
    weft_instance_t *inst = spinning_instance(module);
    double t0;
    CHECK_OK(weft_instance_start(inst));
    sleep_ms(20);
    t0 = now_ms();
    weft_instance_delete(inst);
    CHECK(now_ms() - t0 < 1000);
    printf("delete_while_running ok\n");
}

int main(void)
{
    weft_engine_t *engine = new_engine(NULL);
    weft_module_t *module = load_guest(engine, "outcomes.wat");
    interrupt_from_other_thread(module);
    timeout();
    delete_while_running(module);
    weft_module_delete(module);
    weft_engine_delete(engine);
    return 0;
}
