/* Thread states, thread dumps, deadlock detection, the completion fd and
 * host access to the shared memory, through the public header only. */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <time.h>

#include "check.h"

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static int readable(int fd, int ms)
{
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    return poll(&p, 1, ms) == 1;
}

static size_t find_tid(const weft_thread_list_t *list, uint32_t tid)
{
    for (size_t i = 0; i < weft_thread_list_len(list); i++)
        if (weft_thread_list_tid(list, i) == tid) return i;
    return (size_t)-1;
}

/* Waits until main is parked and the child runs, then checks the snapshot
 * and a dump: with precise dumps the spinning child answers with its frames,
 * without them it is listed with its state only. */
static void snapshot_and_dump(const weft_engine_t *engine, bool precise)
{
    weft_module_t *module = load_guest(engine, "states.wat");
    weft_instance_t *inst = NULL;
    weft_thread_list_t *list = NULL;
    int fd = -1;
    CHECK_OK(weft_instance_new(module, NULL, NULL, &inst));
    CHECK_OK(weft_instance_completion_fd(inst, &fd));
    CHECK(fd >= 0 && !readable(fd, 0));
    CHECK_OK(weft_instance_start(inst));
    for (int tries = 0;; tries++) {
        CHECK(tries < 5000);
        CHECK_OK(weft_instance_threads(inst, &list));
        size_t m = find_tid(list, 0), c = find_tid(list, 1);
        if (weft_thread_list_len(list) == 2 && m != (size_t)-1 && c != (size_t)-1 &&
            weft_thread_list_state(list, m) == WEFT_THREAD_PARKED &&
            weft_thread_list_state(list, c) == WEFT_THREAD_RUNNING)
            break;
        weft_thread_list_delete(list);
        sleep_ms(1);
    }
    uint64_t addr = 0;
    bool timed = true;
    CHECK(weft_thread_list_wait(list, 0, &addr, &timed));
    CHECK(addr == 256 && !timed);
    CHECK(!weft_thread_list_wait(list, 1, &addr, &timed));
    CHECK(strcmp(weft_thread_list_os_name(list, 0), "weft-main") == 0);
    CHECK(strcmp(weft_thread_list_os_name(list, 1), "weft-thread-1") == 0);
    CHECK(weft_thread_list_os_tid(list, 0) > 0);
    CHECK(weft_thread_list_backtrace(list, 0) == NULL); /* a snapshot */
    CHECK(strcmp(weft_thread_list_call_name(list, 0), "") == 0);
    CHECK(strstr(weft_thread_list_text(list), "parked in atomic.wait on 0x100 (no timeout)"));
    /* out of range and NULL are harmless */
    CHECK(weft_thread_list_tid(list, 99) == 0);
    CHECK(weft_thread_list_os_tid(list, 99) == -1);
    CHECK(weft_thread_list_backtrace(list, 99) == NULL);
    CHECK(weft_thread_list_len(NULL) == 0);
    CHECK(strcmp(weft_thread_list_text(NULL), "") == 0);
    weft_thread_list_delete(list);
    weft_thread_list_delete(NULL);

    /* The spinner burns CPU (polled: on a loaded machine it may wait for a core). */
    for (int tries = 0;; tries++) {
        CHECK(tries < 10000);
        CHECK_OK(weft_instance_threads(inst, &list));
        uint64_t spun = weft_thread_list_cpu_time_ns(list, 1);
        weft_thread_list_delete(list);
        if (spun > 10 * 1000 * 1000ull) break;
        sleep_ms(1);
    }
    CHECK_OK(weft_instance_dump(inst, &list));
    CHECK(weft_thread_list_len(list) == 2);
    CHECK(weft_thread_list_backtrace(list, 0) && strstr(weft_thread_list_backtrace(list, 0), "main_park"));
    if (precise)
        CHECK(weft_thread_list_backtrace(list, 1) && strstr(weft_thread_list_backtrace(list, 1), "spin"));
    else
        CHECK(weft_thread_list_backtrace(list, 1) == NULL &&
              strstr(weft_thread_list_text(list), "answers only with precise dumps"));
    CHECK(strstr(weft_thread_list_text(list), "weft thread dump: 2 threads"));
    printf("%s", weft_thread_list_text(list));
    weft_thread_list_delete(list);

    CHECK(!readable(fd, 0));
    CHECK_OK(weft_instance_interrupt(inst));
    CHECK(readable(fd, 2000));
    bool finished = false;
    int32_t code = 0;
    CHECK_ERR(weft_instance_wait(inst, WEFT_WAIT_FOREVER, &finished, &code), WEFT_ERROR_INTERRUPTED);
    /* After the end, a dump lists the threads as the end stopped them: the
     * spinner with the frames of its stop, precise dumps or not. */
    CHECK_OK(weft_instance_dump(inst, &list));
    CHECK(weft_thread_list_len(list) == 2);
    CHECK(weft_thread_list_state(list, 1) == WEFT_THREAD_RUNNING);
    CHECK(weft_thread_list_backtrace(list, 1) && strstr(weft_thread_list_backtrace(list, 1), "!spin"));
    CHECK(weft_thread_list_backtrace(list, 0) && strstr(weft_thread_list_backtrace(list, 0), "!main_park"));
    CHECK(strstr(weft_thread_list_text(list), "as the end of the program stopped them"));
    weft_thread_list_delete(list);
    CHECK_ERR(weft_instance_threads(NULL, &list), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_instance_threads(inst, NULL), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_instance_dump(inst, NULL), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_instance_completion_fd(inst, NULL), WEFT_ERROR_NULL_ARGUMENT);
    weft_instance_delete(inst);
    weft_module_delete(module);
}

static void deadlock(int detect)
{
    weft_config_t *config = weft_config_new();
    CHECK_OK(weft_config_set_deadlock_detection(config, detect));
    if (!detect) CHECK_OK(weft_config_set_timeout_ms(config, 200));
    weft_engine_t *engine = new_engine(config);
    weft_module_t *module = load_guest(engine, "deadlock.wat");
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    CHECK_OK(weft_instance_new(module, NULL, NULL, &inst));
    weft_error_t *err = weft_instance_run(inst, &code);
    CHECK(err);
    if (detect) {
        CHECK(weft_error_kind(err) == WEFT_ERROR_DEADLOCK);
        CHECK(strstr(weft_error_message(err), "deadlock"));
        CHECK(strstr(weft_error_message(err), "wait_for_main"));
        CHECK(strstr(weft_error_message(err), "wait_for_child"));
    } else {
        CHECK(weft_error_kind(err) == WEFT_ERROR_TIMED_OUT);
    }
    weft_error_delete(err);
    weft_instance_delete(inst);
    weft_module_delete(module);
    weft_engine_delete(engine);
    weft_config_delete(config);
}

static void memory_access(const weft_engine_t *engine)
{
    weft_module_t *module = load_guest(engine, "states.wat");
    weft_instance_t *inst = NULL;
    weft_val_t args[2], result;
    CHECK_OK(weft_instance_new(module, NULL, NULL, &inst));
    uint8_t *mem = weft_instance_memory_data(inst);
    CHECK(mem != NULL);
    CHECK(weft_instance_memory_size(inst) == 65536);
    memcpy(mem + 1000, "\x01\x02\x03\xfa", 4);
    args[0].kind = WEFT_I32;
    args[0].of.i32 = 1000;
    args[1].kind = WEFT_I32;
    args[1].of.i32 = 4;
    CHECK_OK(weft_instance_call(inst, "sum", 3, args, 2, &result, 1));
    CHECK(result.of.i32 == 256);
    CHECK(weft_instance_memory_data(NULL) == NULL);
    CHECK(weft_instance_memory_size(NULL) == 0);
    weft_instance_delete(inst);
    weft_module_delete(module);
}

static void config_checks(void)
{
    weft_config_t *config = weft_config_new();
    CHECK_OK(weft_config_set_profiler(config, WEFT_PROFILER_PERFMAP));
    CHECK_OK(weft_config_set_profiler(config, WEFT_PROFILER_NONE));
    /* jitdump is in default builds; one built without the cargo feature
       refuses it, naming the feature. */
    weft_error_t *jit = weft_config_set_profiler(config, WEFT_PROFILER_JITDUMP);
    if (jit != NULL) {
        CHECK(weft_error_kind(jit) == WEFT_ERROR_INVALID_ARGUMENT);
        CHECK(strstr(weft_error_message(jit), "cargo feature `jitdump`") != NULL);
        weft_error_delete(jit);
    }
    CHECK_OK(weft_config_set_profiler(config, WEFT_PROFILER_NONE));
    CHECK_ERR(weft_config_set_profiler(config, 77), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_config_set_deadlock_detection(NULL, true), WEFT_ERROR_NULL_ARGUMENT);
    weft_config_delete(config);
}

int main(void)
{
    weft_engine_t *engine = new_engine(NULL);
    snapshot_and_dump(engine, false);
    memory_access(engine);
    weft_engine_delete(engine);
    weft_config_t *config = weft_config_new();
    CHECK_OK(weft_config_set_precise_dumps(config, true));
    CHECK_ERR(weft_config_set_precise_dumps(NULL, true), WEFT_ERROR_NULL_ARGUMENT);
    engine = new_engine(config);
    weft_config_delete(config);
    snapshot_and_dump(engine, true);
    weft_engine_delete(engine);
    deadlock(1);
    deadlock(0);
    config_checks();
    printf("test_thread_states: ok\n");
    return 0;
}
