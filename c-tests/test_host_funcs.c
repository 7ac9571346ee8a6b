/* Host functions are called concurrently from every guest thread, with the
 * caller's TID; the env finalizer runs exactly once, after the last user. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>

#include "check.h"

struct counters {
    pthread_mutex_t lock;
    long calls;
    long reports;
    long bad_reports;
    int main_thread_calls;
    int finalized;
};

static weft_error_t *add_cb(void *env, const weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                            weft_val_t *results, size_t nresults)
{
    struct counters *c = env;
    CHECK(nargs == 2 && nresults == 1);
    CHECK(args[0].kind == WEFT_I32 && results[0].kind == WEFT_I32);
    pthread_mutex_lock(&c->lock);
    c->calls++;
    if (weft_caller_tid(caller) == 0) c->main_thread_calls++;
    pthread_mutex_unlock(&c->lock);
    results[0].of.i32 = args[0].of.i32 + args[1].of.i32;
    return NULL;
}

static weft_error_t *report_cb(void *env, const weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                               weft_val_t *results, size_t nresults)
{
    struct counters *c = env;
    (void)nargs, (void)results, (void)nresults;
    /* Threaded guests give the callback their shared memory. */
    CHECK(weft_caller_memory_data(caller) != NULL);
    CHECK(weft_caller_memory_size(caller) == 65536);
    pthread_mutex_lock(&c->lock);
    c->reports++;
    if (args[0].of.i32 != 1000) c->bad_reports++;
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static void finalize(void *env)
{
    struct counters *c = env;
    pthread_mutex_lock(&c->lock);
    c->finalized++;
    pthread_mutex_unlock(&c->lock);
}

static int finalized(struct counters *c)
{
    int n;
    pthread_mutex_lock(&c->lock);
    n = c->finalized;
    pthread_mutex_unlock(&c->lock);
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

int main(void)
{
    static struct counters add_env, report_env;
    uint32_t two[2] = {WEFT_I32, WEFT_I32}, one = WEFT_I32, bad = 42;
    weft_engine_t *engine = new_engine(NULL);
    weft_module_t *module = load_guest(engine, "host_calls.wat");
    weft_host_funcs_t *funcs = weft_host_funcs_new();
    weft_instance_t *inst = NULL, *inst2 = NULL;
    int32_t code = -1;

    pthread_mutex_init(&add_env.lock, NULL);
    pthread_mutex_init(&report_env.lock, NULL);
    /* A failed definition leaves env with the caller: no finalizer call. */
    CHECK_ERR(weft_host_funcs_define(funcs, "host", 4, "add", 3, &bad, 1, &one, 1, add_cb, &add_env, finalize),
              WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_host_funcs_define(funcs, "host", 4, "add", 3, two, 2, &one, 1, NULL, &add_env, finalize),
              WEFT_ERROR_NULL_ARGUMENT);
    CHECK(add_env.finalized == 0);
    CHECK_OK(weft_host_funcs_define(funcs, "host", 4, "add", 3, two, 2, &one, 1, add_cb, &add_env, finalize));
    CHECK_OK(weft_host_funcs_define(funcs, "host", 4, "report", 6, &one, 1, NULL, 0, report_cb, &report_env,
                                    finalize));

    /* Two instances share the definitions; deleting the set first must not
     * finalize anything they still use. */
    CHECK_OK(weft_instance_new(module, NULL, funcs, &inst));
    CHECK_OK(weft_instance_new(module, NULL, funcs, &inst2));
    weft_host_funcs_delete(funcs);
    CHECK(add_env.finalized == 0 && report_env.finalized == 0);

    CHECK_OK(weft_instance_run(inst, &code));
    CHECK(code == 0);
    CHECK(add_env.calls == 8 * 1000);
    CHECK(add_env.main_thread_calls == 0);
    CHECK(report_env.reports == 8 && report_env.bad_reports == 0);
    weft_instance_delete(inst);
    CHECK(finalized(&add_env) == 0);

    CHECK_OK(weft_instance_run(inst2, &code));
    CHECK(code == 0);
    CHECK(add_env.calls == 2 * 8 * 1000);
    weft_instance_delete(inst2);
    weft_module_delete(module);
    weft_engine_delete(engine);

    /* weft_instance_delete waits for the threads to let go: the finalizers
     * have run when it returns, and run once. */
    CHECK(finalized(&add_env) == 1);
    CHECK(finalized(&report_env) == 1);
    sleep_ms(50);
    CHECK(finalized(&add_env) == 1);
    CHECK(finalized(&report_env) == 1);
    pthread_mutex_destroy(&add_env.lock);
    pthread_mutex_destroy(&report_env.lock);
    printf("host funcs ok: %ld calls\n", add_env.calls);
    return 0;
}
