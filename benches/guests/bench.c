/* The benchmark programs, one source for both builds (see sys.h):
 *   bench spawn K         create and join K threads one after another
 *   bench compute T N     sum of a pure function over N elements on T threads
 *   bench idle T          T threads park in a futex wait; RSS before and after
 *   bench write T S DIR   T threads write 256-byte records, S=0: one file each,
 *                         S=1: all to one O_APPEND file
 * Each prints key=value lines; times are in nanoseconds. */
#include "sys.h"

/* ---- spawn ---- */

static void nothing(void *arg) { (void)arg; }

static void bench_spawn(int64_t k)
{
    thr_t t;
    uint64_t start = now_ns();
    for (int64_t i = 0; i < k; i++) {
        if (thr_create(&t, nothing, 0) != 0) EXIT(10);
        thr_join(&t);
    }
    report("ns_per_thread", (now_ns() - start) / (uint64_t)k);
}

/* ---- compute ---- */

struct chunk {
    uint64_t from, to, sum;
};

/* A pure function of i: integer mixing, no memory traffic. */
static inline uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dull;
    x ^= x >> 33;
    return x;
}

static void sum_chunk(void *arg)
{
    struct chunk *c = arg;
    uint64_t s = 0;
    for (uint64_t i = c->from; i < c->to; i++) s += mix(i) >> 32;
    c->sum = s;
}

static void bench_compute(int64_t threads, int64_t n)
{
    static struct chunk chunks[64];
    static thr_t ts[64];
    if (threads < 1 || threads > 64) EXIT(11);
    uint64_t start = now_ns();
    for (int64_t i = 0; i < threads; i++) {
        chunks[i].from = (uint64_t)(n * i / threads);
        chunks[i].to = (uint64_t)(n * (i + 1) / threads);
        if (i > 0 && thr_create(&ts[i], sum_chunk, &chunks[i]) != 0) EXIT(12);
    }
    sum_chunk(&chunks[0]);
    uint64_t sum = chunks[0].sum;
    for (int64_t i = 1; i < threads; i++) {
        thr_join(&ts[i]);
        sum += chunks[i].sum;
    }
    report("ns", now_ns() - start);
    report("sum", sum);
}

/* ---- idle ---- */

static int32_t idle_started, idle_release;

static void idle(void *arg)
{
    (void)arg;
    __atomic_fetch_add(&idle_started, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&idle_release, __ATOMIC_SEQ_CST) == 0) futex_wait(&idle_release, 0);
}

static void bench_idle(int64_t n)
{
    static thr_t ts[1024];
    if (n > 1024) EXIT(14);
    rss_mark(0);
    for (int64_t i = 0; i < n; i++)
        if (thr_create(&ts[i], idle, 0) != 0) EXIT(15);
    while (__atomic_load_n(&idle_started, __ATOMIC_SEQ_CST) < n) {
    }
    rss_mark(1);
    __atomic_store_n(&idle_release, 1, __ATOMIC_SEQ_CST);
    futex_wake_all(&idle_release);
    for (int64_t i = 0; i < n; i++) thr_join(&ts[i]);
}

/* ---- write ---- */

#define RECORD 256
#define TOTAL_RECORDS 80000

struct writer {
    int32_t fd;
    int64_t records;
};

static void write_records(void *arg)
{
    struct writer *w = arg;
    char rec[RECORD];
    memset(rec, 'x', RECORD);
    rec[RECORD - 1] = '\n';
    for (int64_t i = 0; i < w->records; i++) write_all(w->fd, rec, RECORD);
}

static void bench_write(int64_t threads, int64_t shared, const char *dir)
{
    static struct writer ws[64];
    static thr_t ts[64];
    static char names[64][8];
    if (threads < 1 || threads > 64) EXIT(16);
    int32_t one = shared ? open_out(dir, "shared.out", 1) : -1;
    for (int64_t i = 0; i < threads; i++) {
        names[i][0] = 'w', names[i][1] = (char)('0' + i / 10), names[i][2] = (char)('0' + i % 10);
        names[i][3] = 0;
        ws[i].fd = shared ? one : open_out(dir, names[i], 0);
        ws[i].records = TOTAL_RECORDS / threads;
    }
    uint64_t start = now_ns();
    for (int64_t i = 1; i < threads; i++)
        if (thr_create(&ts[i], write_records, &ws[i]) != 0) EXIT(17);
    write_records(&ws[0]);
    for (int64_t i = 1; i < threads; i++) thr_join(&ts[i]);
    uint64_t ns = now_ns() - start;
    report("ns", ns);
    report("bytes", (uint64_t)(TOTAL_RECORDS / threads) * threads * RECORD);
    for (int64_t i = 0; i < threads; i++)
        if (!shared) close_fd(ws[i].fd);
    if (shared) close_fd(one);
}

static void run(void)
{
    const char *mode = arg_str(1, "");
    if (str_eq(mode, "spawn")) bench_spawn(arg_int(2, 1000));
    else if (str_eq(mode, "compute")) bench_compute(arg_int(2, 1), arg_int(3, 100000000));
    else if (str_eq(mode, "idle")) bench_idle(arg_int(2, 1));
    else if (str_eq(mode, "write")) bench_write(arg_int(2, 1), arg_int(3, 0), arg_str(4, "."));
    else EXIT(1);
}

#ifdef __wasm__
void _start(void)
{
    load_args();
    run();
}
#else
int main(int argc, char **argv)
{
    arg_ptrs = argv;
    arg_count = argc;
    run();
    return 0;
}
#endif
