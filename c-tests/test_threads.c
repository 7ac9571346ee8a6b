/* Threads and TIDs: N threads alive at once get distinct TIDs 1..N (lowest
 * first), each child sees its own TID and start argument, and stats agree. */
#include <pthread.h>

#include "check.h"

#define N 32

struct seen {
    pthread_mutex_t lock;
    int32_t spawned[N];
    int nspawned;
    int32_t child_tid[N];
    int32_t child_arg[N];
    int nchild;
    int bad_caller_tid;
};

static weft_error_t *n_cb(void *env, const weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                          weft_val_t *results, size_t nresults)
{
    (void)env, (void)caller, (void)args, (void)nargs, (void)nresults;
    results[0].of.i32 = N;
    return NULL;
}

static weft_error_t *spawned_cb(void *env, const weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                                weft_val_t *results, size_t nresults)
{
    struct seen *s = env;
    (void)caller, (void)nargs, (void)results, (void)nresults;
    pthread_mutex_lock(&s->lock);
    if (s->nspawned < N) s->spawned[s->nspawned++] = args[0].of.i32;
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static weft_error_t *child_cb(void *env, const weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                              weft_val_t *results, size_t nresults)
{
    struct seen *s = env;
    (void)nargs, (void)results, (void)nresults;
    pthread_mutex_lock(&s->lock);
    if ((int32_t)weft_caller_tid(caller) != args[0].of.i32) s->bad_caller_tid++;
    if (s->nchild < N) {
        s->child_tid[s->nchild] = args[0].of.i32;
        s->child_arg[s->nchild] = args[1].of.i32;
        s->nchild++;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static int contains(const int32_t *a, int n, int32_t v)
{
    for (int i = 0; i < n; i++)
        if (a[i] == v) return 1;
    return 0;
}

static void wat_tids(void)
{
    static struct seen s;
    uint32_t i32 = WEFT_I32, two[2] = {WEFT_I32, WEFT_I32};
    weft_engine_t *engine = new_engine(NULL);
    weft_module_t *module = load_guest(engine, "spawn_n.wat");
    weft_host_funcs_t *funcs = weft_host_funcs_new();
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    uint64_t spawned = 0;
    uint32_t peak = 0, live = 99;

    pthread_mutex_init(&s.lock, NULL);
    CHECK(weft_module_uses_threads(module));
    CHECK_OK(weft_host_funcs_define(funcs, "test", 4, "n", 1, NULL, 0, &i32, 1, n_cb, &s, NULL));
    CHECK_OK(weft_host_funcs_define(funcs, "test", 4, "spawned", 7, &i32, 1, NULL, 0, spawned_cb, &s, NULL));
    CHECK_OK(weft_host_funcs_define(funcs, "test", 4, "child", 5, two, 2, NULL, 0, child_cb, &s, NULL));
    CHECK_OK(weft_instance_new(module, NULL, funcs, &inst));
    CHECK_OK(weft_instance_run(inst, &code));
    CHECK(code == 0);

    CHECK(s.nspawned == N && s.nchild == N);
    CHECK(s.bad_caller_tid == 0);
    for (int i = 0; i < N; i++) {
        CHECK(s.spawned[i] >= 1 && s.spawned[i] <= N);
        for (int j = 0; j < i; j++) CHECK(s.spawned[i] != s.spawned[j]);
        /* Every child saw a TID that spawn returned, and its own argument. */
        CHECK(contains(s.spawned, N, s.child_tid[i]));
        CHECK(s.child_arg[i] >= 1000 && s.child_arg[i] < 1000 + N);
        for (int j = 0; j < i; j++) CHECK(s.child_arg[i] != s.child_arg[j]);
    }
    CHECK_OK(weft_instance_stats(inst, &spawned, &peak, &live));
    CHECK(spawned == N);
    CHECK(peak == N);
    CHECK(live == 0);

    weft_instance_delete(inst);
    weft_host_funcs_delete(funcs);
    weft_module_delete(module);
    weft_engine_delete(engine);
    pthread_mutex_destroy(&s.lock);
    printf("wat_tids ok\n");
}

/* A freestanding C guest (clang + wasm-ld --shared-memory): 8 threads sum a range. */
static void c_parallel_sum(void)
{
#ifdef WEFT_HAVE_THREADED_GUESTS
    weft_engine_t *engine = new_engine(NULL);
    weft_module_t *module = load_guest(engine, "parallel_sum.wasm");
    weft_wasi_config_t *wasi = capturing_wasi();
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    char *out;
    CHECK(weft_module_uses_threads(module));
    CHECK_OK(weft_instance_new(module, wasi, NULL, &inst));
    CHECK_OK(weft_instance_run(inst, &code));
    out = captured(inst, 1);
    if (code != 0 || strcmp(out, "sum 500000e6+500000 tids valid\n") != 0) {
        fprintf(stderr, "parallel_sum: exit %d, stdout \"%s\"\n", (int)code, out);
        exit(1);
    }
    free(out);
    weft_instance_delete(inst);
    weft_wasi_config_delete(wasi);
    weft_module_delete(module);
    weft_engine_delete(engine);
    printf("c_parallel_sum ok\n");
#else
    printf("c_parallel_sum skipped (no clang/wasm-ld for wasm32)\n");
#endif
}

/* The same module runs many times; TIDs are recycled, so runs never run out. */
static void many_runs(void)
{
    weft_config_t *config = weft_config_new();
    weft_engine_t *small;
    weft_module_t *module;
    CHECK_OK(weft_config_set_max_threads(config, 8));
    small = new_engine(config);
    module = load_guest(small, "limit.wat");
    for (int run = 0; run < 20; run++) {
        weft_instance_t *inst = NULL;
        int32_t code = -1;
        CHECK_OK(weft_instance_new(module, NULL, NULL, &inst));
        CHECK_OK(weft_instance_run(inst, &code));
        CHECK(code == 8);
        weft_instance_delete(inst);
    }
    weft_module_delete(module);
    weft_engine_delete(small);
    weft_config_delete(config);
    printf("many_runs ok\n");
}

int main(void)
{
    wat_tids();
    c_parallel_sum();
    many_runs();
    return 0;
}
