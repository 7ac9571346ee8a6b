/* The few system services the benchmarks need, for two builds of the same
 * source: a freestanding wasi-threads guest (no libc; clang-19
 * --target=wasm32-wasi -matomics -mbulk-memory -nostdlib, linked with
 * thread_start.s) and a native program (gcc -O2 -pthread). */
#ifndef BENCH_SYS_H
#define BENCH_SYS_H

#include <stddef.h>
#include <stdint.h>

typedef void (*thr_fn)(void *arg);

#ifdef __wasm__

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define WASI(name) IMPORT("wasi_snapshot_preview1", name)

IMPORT("wasi", "thread-spawn") int32_t wasi_thread_spawn(void *start_arg);
IMPORT("bench", "rss_mark") void rss_mark(int32_t phase);
typedef struct { const void *buf; size_t len; } ciovec_t;
WASI("fd_write") int32_t fd_write(int32_t fd, const ciovec_t *iovs, size_t n, size_t *written);
WASI("fd_close") int32_t fd_close(int32_t fd);
WASI("proc_exit") _Noreturn void proc_exit(int32_t code);
WASI("clock_time_get") int32_t clock_time_get(int32_t id, int64_t precision, uint64_t *out);
WASI("args_sizes_get") int32_t args_sizes_get(size_t *argc, size_t *buf_size);
WASI("args_get") int32_t args_get(char **argv, char *buf);
WASI("path_open")
int32_t path_open(int32_t dirfd, int32_t dirflags, const char *path, size_t path_len,
                  int32_t oflags, uint64_t rights, uint64_t inheriting, int32_t fdflags,
                  int32_t *fd);

/* A thread: c-tests/guests/threaded/thread_start.s loads stack_top (the first field) into
 * __stack_pointer, then calls guest_thread_main(tid, t). */
typedef struct {
    void *stack_top;
    thr_fn fn;
    void *arg;
    int32_t done;
    int slot;
} thr_t;

#define STACK_SIZE 8192
#ifndef MAX_STACKS
#define MAX_STACKS 1100 /* wasm-ld zero-fills these at start-up: keep small where possible */
#endif
static unsigned char stacks[MAX_STACKS][STACK_SIZE] __attribute__((aligned(16)));
static int32_t stack_used[MAX_STACKS];

__attribute__((used)) void guest_thread_main(int32_t tid, thr_t *t)
{
    (void)tid;
    t->fn(t->arg);
    __atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(&t->done, 1);
}

static int thr_create(thr_t *t, thr_fn fn, void *arg)
{
    int slot = -1;
    for (int i = 0; i < MAX_STACKS; i++)
        if (__atomic_exchange_n(&stack_used[i], 1, __ATOMIC_SEQ_CST) == 0) {
            slot = i;
            break;
        }
    if (slot < 0) return -1;
    t->stack_top = stacks[slot] + STACK_SIZE;
    t->fn = fn;
    t->arg = arg;
    t->done = 0;
    t->slot = slot;
    if (wasi_thread_spawn(t) < 0) {
        __atomic_store_n(&stack_used[slot], 0, __ATOMIC_SEQ_CST);
        return -1;
    }
    return 0;
}

static void thr_join(thr_t *t)
{
    while (__atomic_load_n(&t->done, __ATOMIC_SEQ_CST) == 0)
        __builtin_wasm_memory_atomic_wait32(&t->done, 0, -1);
    __atomic_store_n(&stack_used[t->slot], 0, __ATOMIC_SEQ_CST);
}

static void futex_wait(int32_t *addr, int32_t expected)
{
    __builtin_wasm_memory_atomic_wait32(addr, expected, -1);
}

static void futex_wake_all(int32_t *addr)
{
    __builtin_wasm_memory_atomic_notify(addr, -1);
}

static uint64_t now_ns(void)
{
    uint64_t t = 0;
    clock_time_get(1, 1, &t);
    return t;
}

static void write_all(int32_t fd, const void *buf, size_t len)
{
    while (len > 0) {
        ciovec_t iov = {buf, len};
        size_t n = 0;
        if (fd_write(fd, &iov, 1, &n) != 0 || n == 0) proc_exit(3);
        buf = (const char *)buf + n;
        len -= n;
    }
}

/* Opens `name` for writing in the first preopened directory (fd 3);
 * `dir` is unused (it is the native build's directory). */
static int32_t open_out(const char *dir, const char *name, int append)
{
    (void)dir;
    size_t n = 0;
    while (name[n]) n++;
    int32_t fd = -1;
    /* oflags: CREAT | TRUNC; rights: FD_WRITE; fdflags: APPEND */
    if (path_open(3, 0, name, n, 1 | 8, 1 << 6, 0, append ? 1 : 0, &fd) != 0) proc_exit(4);
    return fd;
}

static void close_fd(int32_t fd) { fd_close(fd); }

static char arg_buf[1024];
static char *arg_ptrs[16];
static int arg_count;

static void load_args(void)
{
    size_t argc = 0, size = 0;
    if (args_sizes_get(&argc, &size) != 0 || argc > 16 || size > sizeof arg_buf) proc_exit(2);
    args_get(arg_ptrs, arg_buf);
    arg_count = (int)argc;
}

static void *memset_(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--) *p++ = (unsigned char)c;
    return d;
}
#define memset memset_

#define EXIT(code) proc_exit(code)

#else /* native */


#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    pthread_t t;
    thr_fn fn;
    void *arg;
} thr_t;

static void *native_start(void *p)
{
    thr_t *t = p;
    t->fn(t->arg);
    return NULL;
}

static int thr_create(thr_t *t, thr_fn fn, void *arg)
{
    t->fn = fn;
    t->arg = arg;
    return pthread_create(&t->t, NULL, native_start, t) == 0 ? 0 : -1;
}

static void thr_join(thr_t *t) { pthread_join(t->t, NULL); }

static void futex_wait(int32_t *addr, int32_t expected)
{
    syscall(SYS_futex, addr, FUTEX_WAIT, expected, NULL, NULL, 0);
}

static void futex_wake_all(int32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void write_all(int32_t fd, const void *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n <= 0) exit(3);
        buf = (const char *)buf + n;
        len -= (size_t)n;
    }
}

static int32_t open_out(const char *dir, const char *name, int append)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (append ? O_APPEND : 0), 0644);
    if (fd < 0) exit(4);
    return fd;
}

static void close_fd(int32_t fd) { close(fd); }

/* The host RSS (resident pages of this process), printed for the harness. */
static void rss_mark(int32_t phase)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    printf("rss%d=%ld\n", (int)phase, resident * sysconf(_SC_PAGESIZE));
    fflush(stdout);
}

static char **arg_ptrs;
static int arg_count;
#define EXIT(code) exit(code)

#endif

/* ---- shared helpers ---- */

static int64_t arg_int(int i, int64_t dflt)
{
    if (i >= arg_count) return dflt;
    int64_t v = 0;
    for (const char *p = arg_ptrs[i]; *p; p++) v = v * 10 + (*p - '0');
    return v;
}

static const char *arg_str(int i, const char *dflt) { return i < arg_count ? arg_ptrs[i] : dflt; }

static int str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

/* Prints "key=value\n" on stdout. */
static void report(const char *key, uint64_t value)
{
    char buf[64];
    int n = 0;
    while (key[n] && n < 40) buf[n] = key[n], n++;
    buf[n++] = '=';
    char digits[24];
    int d = 0;
    do digits[d++] = (char)('0' + value % 10), value /= 10; while (value);
    while (d) buf[n++] = digits[--d];
    buf[n++] = '\n';
    write_all(1, buf, (size_t)n);
}

#endif
