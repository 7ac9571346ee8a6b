/* A host may unload weft right after weft_release_idle_threads: by then every
 * OS thread weft started for the finished programs (pooled guest threads,
 * their stopper) has exited, so none runs code of the unloaded library. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <dlfcn.h>
#include <time.h>

#include "check.h"

#define SYM(name) static __typeof__(&name) p_##name
#define LOAD(name) load_sym(lib, #name, &p_##name, sizeof p_##name)

static void load_sym(void *lib, const char *name, void *dst, size_t size)
{
    void *sym = dlsym(lib, name);
    if (!sym) {
        fprintf(stderr, "dlsym(%s): %s\n", name, dlerror());
        exit(1);
    }
    memcpy(dst, &sym, size);
}

/* Threads of this process. */
static int count_threads(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    if (!d) return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* Names the threads alive now, for the failure message. */
static void print_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    if (!d) return;
    while ((e = readdir(d))) {
        char path[300], name[64] = "";
        FILE *f;
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        if ((f = fopen(path, "r"))) {
            if (!fgets(name, sizeof name, f)) name[0] = 0;
            fclose(f);
        }
        fprintf(stderr, "  thread %s: %s", e->d_name, name);
    }
    closedir(d);
}

/* Whether the thread count comes back to `want` within 200 ms. */
static int threads_settle(int want)
{
    struct timespec tick = {0, 1000000};
    int i;
    for (i = 0; i < 200; i++) {
        if (count_threads() == want) return 1;
        nanosleep(&tick, NULL);
    }
    return count_threads() == want;
}

static int library_mapped(const char *name)
{
    char line[4096];
    int found = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strstr(line, name)) found = 1;
    fclose(f);
    return found;
}

int main(int argc, char **argv)
{
    /* Eight children park in an untimed wait; the main thread exits with 5
     * once they all run: ending the program wakes them. */
    static const char wat[] =
        "(module (import \"wasi\" \"thread-spawn\" (func $spawn (param i32) (result i32)))"
        " (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $exit (param i32)))"
        " (import \"env\" \"memory\" (memory 1 1 shared))"
        " (func (export \"wasi_thread_start\") (param i32 i32)"
        "   (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))"
        "   (drop (memory.atomic.wait32 (i32.const 4) (i32.const 0) (i64.const -1))))"
        " (func (export \"_start\") (local $i i32)"
        "   (loop $l (drop (call $spawn (i32.const 0)))"
        "     (local.set $i (i32.add (local.get $i) (i32.const 1)))"
        "     (br_if $l (i32.lt_u (local.get $i) (i32.const 8))))"
        "   (loop $w (br_if $w (i32.lt_u (i32.atomic.load (i32.const 0)) (i32.const 8))))"
        "   (call $exit (i32.const 5))))";
    const char *path = argc > 1 ? argv[1] : WEFT_SHARED_LIBRARY;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int before = count_threads();
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    int round;
    SYM(weft_engine_new);
    SYM(weft_engine_delete);
    SYM(weft_module_new);
    SYM(weft_module_delete);
    SYM(weft_instance_new);
    SYM(weft_instance_run);
    SYM(weft_instance_delete);
    SYM(weft_error_message);
    SYM(weft_release_idle_threads);

    if (!lib) {
        fprintf(stderr, "dlopen(%s): %s\n", path, dlerror());
        return 1;
    }
    LOAD(weft_engine_new);
    LOAD(weft_engine_delete);
    LOAD(weft_module_new);
    LOAD(weft_module_delete);
    LOAD(weft_instance_new);
    LOAD(weft_instance_run);
    LOAD(weft_instance_delete);
    LOAD(weft_error_message);
    LOAD(weft_release_idle_threads);

    for (round = 0; round < 20; round++) {
        weft_engine_t *engine = NULL;
        weft_module_t *module = NULL;
        weft_instance_t *inst = NULL;
        weft_error_t *err;
        int32_t code = -1;
        size_t released;
        if ((err = p_weft_engine_new(NULL, &engine)) ||
            (err = p_weft_module_new(engine, (const uint8_t *)wat, strlen(wat), &module)) ||
            (err = p_weft_instance_new(module, NULL, NULL, &inst)) ||
            (err = p_weft_instance_run(inst, &code))) {
            fprintf(stderr, "error: %s\n", p_weft_error_message(err));
            return 1;
        }
        CHECK(code == 5);
        p_weft_instance_delete(inst);
        p_weft_module_delete(module);
        p_weft_engine_delete(engine);
        /* Right away: some threads are still on their way back to the pool. */
        released = p_weft_release_idle_threads();
        CHECK(released >= 1);
        /* Every one of them has exited, not merely been told to. A joined
         * thread can still be listed in /proc for a moment (the kernel wakes
         * pthread_join before it has reaped the task), so allow 200 ms: far
         * less than the 1 s after which an idle thread would leave on its own. */
        if (!threads_settle(before)) {
            fprintf(stderr, "round %d: %d threads after release, %d before loading\n", round,
                    count_threads(), before);
            print_threads();
            return 1;
        }
    }
    CHECK(dlclose(lib) == 0);
    /* Nothing of the library runs any more, and it can really be unmapped. */
    {
        struct timespec pause = {0, 200 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    CHECK(count_threads() == before);
    printf("dlclose ok: %d threads, library still mapped: %d\n", count_threads(), library_mapped(base));
    return 0;
}
