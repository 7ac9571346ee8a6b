/* weft_instance_outcome: the outcome as soon as it is decided, while another
 * guest thread is still running (held inside a host function), for a host
 * that ends its process with the program (weft-run). */
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>

#include "check.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int held, released;

static weft_error_t *mode_cb(void *env, const weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                             weft_val_t *results, size_t nresults)
{
    (void)caller, (void)args, (void)nargs, (void)nresults;
    results[0].of.i32 = *(const int32_t *)env;
    return NULL;
}

static weft_error_t *hold_cb(void *env, const weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                             weft_val_t *results, size_t nresults)
{
    (void)env, (void)caller, (void)args, (void)nargs, (void)results, (void)nresults;
    pthread_mutex_lock(&lock);
    held = 1;
    pthread_cond_broadcast(&changed);
    while (!released) pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static weft_error_t *held_cb(void *env, const weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                             weft_val_t *results, size_t nresults)
{
    (void)env, (void)caller, (void)args, (void)nargs, (void)nresults;
    pthread_mutex_lock(&lock);
    results[0].of.i32 = held;
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void release_child(void)
{
    pthread_mutex_lock(&lock);
    released = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void end_while_a_thread_runs(const weft_module_t *module, int32_t mode)
{
    uint32_t i32 = WEFT_I32;
    weft_host_funcs_t *funcs = weft_host_funcs_new();
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    bool decided = true, finished = false;
    int fd = -1;
    held = released = 0;
    CHECK_OK(weft_host_funcs_define(funcs, "test", 4, "mode", 4, NULL, 0, &i32, 1, mode_cb, &mode, NULL));
    CHECK_OK(weft_host_funcs_define(funcs, "test", 4, "hold", 4, NULL, 0, NULL, 0, hold_cb, NULL, NULL));
    CHECK_OK(weft_host_funcs_define(funcs, "test", 4, "held", 4, NULL, 0, &i32, 1, held_cb, NULL, NULL));
    CHECK_OK(weft_instance_new(module, NULL, funcs, &inst));
    weft_host_funcs_delete(funcs);

    /* Before the start nothing is decided. */
    CHECK_OK(weft_instance_outcome(inst, &decided, &code));
    CHECK(!decided);
    CHECK_OK(weft_instance_completion_fd(inst, &fd));
    CHECK_OK(weft_instance_start(inst));
    struct pollfd p = {fd, POLLIN, 0};
    CHECK(poll(&p, 1, 30000) == 1);

    /* Decided, and the child is still inside test.hold: nobody let it go. */
    if (mode == 1) {
        CHECK_OK(weft_instance_outcome(inst, &decided, &code));
        CHECK(decided && code == 5);
    } else {
        weft_error_t *err = weft_instance_outcome(inst, &decided, &code);
        CHECK(decided && err && weft_error_kind(err) == WEFT_ERROR_TRAP);
        uint32_t tid = 99;
        CHECK(weft_error_trap_tid(err, &tid) && tid == 0);
        weft_error_delete(err);
    }
    pthread_mutex_lock(&lock);
    CHECK(held && !released);
    pthread_mutex_unlock(&lock);

    /* The full end: the child leaves the host function and stops. */
    release_child();
    if (mode == 1) {
        CHECK_OK(weft_instance_wait(inst, WEFT_WAIT_FOREVER, &finished, &code));
        CHECK(finished && code == 5);
    } else {
        CHECK_ERR(weft_instance_wait(inst, WEFT_WAIT_FOREVER, &finished, &code), WEFT_ERROR_TRAP);
    }
    /* The outcome stays. */
    code = -1;
    if (mode == 1) {
        CHECK_OK(weft_instance_outcome(inst, &decided, &code));
        CHECK(decided && code == 5);
    } else {
        CHECK_ERR(weft_instance_outcome(inst, &decided, &code), WEFT_ERROR_TRAP);
    }
    weft_instance_delete(inst);
    printf("mode %d: outcome known while a thread still ran\n", (int)mode);
}

int main(void)
{
    weft_engine_t *engine = new_engine(NULL);
    weft_module_t *module = load_guest(engine, "held_child.wat");
    bool decided = true;
    int32_t code = 0;
    CHECK_ERR(weft_instance_outcome(NULL, &decided, &code), WEFT_ERROR_NULL_ARGUMENT);
    end_while_a_thread_runs(module, 1);
    end_while_a_thread_runs(module, 2);
    weft_module_delete(module);
    weft_engine_delete(engine);
    return 0;
}
