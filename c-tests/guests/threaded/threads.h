/* Minimal wasi-threads support for freestanding guests (no libc).
 * Compile with clang --target=wasm32-wasi -matomics -mbulk-memory -nostdlib,
 * link with wasm-ld --import-memory --export-memory --shared-memory and
 * thread_start.s. */
#ifndef GUEST_THREADS_H
#define GUEST_THREADS_H

#include <stddef.h>
#include <stdint.h>

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))

/* wasi-threads: returns a TID (> 0) or a negative value. */
IMPORT("wasi", "thread-spawn") int32_t thread_spawn(void *start_arg);

typedef struct {
    const void *buf;
    size_t len;
} ciovec_t;

IMPORT("wasi_snapshot_preview1", "fd_write")
int32_t fd_write(int32_t fd, const ciovec_t *iovs, size_t iovs_len, size_t *nwritten);
IMPORT("wasi_snapshot_preview1", "proc_exit") _Noreturn void proc_exit(int32_t code);

/* The start argument of every thread; thread_start.s reads stack_top. */
struct thread_start {
    void *stack_top; /* must stay the first field */
    void (*fn)(int32_t tid, void *arg);
    void *arg;
};

#define GUEST_STACK_SIZE 16384
#define GUEST_MAX_THREADS 64

static unsigned char guest_stacks[GUEST_MAX_THREADS][GUEST_STACK_SIZE] __attribute__((aligned(16)));
static struct thread_start guest_starts[GUEST_MAX_THREADS];

/* Called by thread_start.s on the new thread's own stack. */
__attribute__((used)) void guest_thread_main(int32_t tid, struct thread_start *s)
{
    s->fn(tid, s->arg);
}

/* Spawns fn(tid, arg) on slot `slot` (each slot owns one stack; the caller
 * must not reuse a slot while its thread runs). Returns the TID or < 0. */
static int32_t spawn(int slot, void (*fn)(int32_t, void *), void *arg)
{
    struct thread_start *s = &guest_starts[slot];
    s->stack_top = guest_stacks[slot] + GUEST_STACK_SIZE;
    s->fn = fn;
    s->arg = arg;
    return thread_spawn(s);
}

static void write_str(int32_t fd, const char *s)
{
    size_t n = 0, written;
    ciovec_t iov;
    while (s[n]) n++;
    iov.buf = s;
    iov.len = n;
    fd_write(fd, &iov, 1, &written);
}

/* Formats v in decimal into buf (at least 12 bytes); returns buf. */
static char *fmt_u32(uint32_t v, char *buf)
{
    char tmp[12];
    int n = 0, i = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) buf[i++] = tmp[--n];
    buf[i] = 0;
    return buf;
}

static int32_t atomic_load(int32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static int32_t atomic_add(int32_t *p, int32_t v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }

/* Waits until *p != seen (or a spurious wake-up). */
static void futex_wait(int32_t *p, int32_t seen)
{
    __builtin_wasm_memory_atomic_wait32(p, seen, -1);
}
static void futex_wake_all(int32_t *p) { __builtin_wasm_memory_atomic_notify(p, (uint32_t)-1); }

#endif
