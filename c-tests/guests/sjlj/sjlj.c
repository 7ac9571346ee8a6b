/* setjmp/longjmp in many threads at once: a wasi-sdk C program built with
 * LLVM's WebAssembly exception handling (standard exnref encoding):
 *
 *   clang --target=wasm32-wasip1-threads -pthread -O2 \
 *     -mllvm -wasm-enable-sjlj -mllvm -wasm-use-legacy-eh=false -lsetjmp \
 *     -Wl,--import-memory,--export-memory,--max-memory=67108864 sjlj.c
 *
 * Every longjmp is a wasm `throw` caught by a `try_table` in the frame of its
 * setjmp. Each thread has its own jmp_bufs (thread-local).
 *
 *   sjlj [jumps]  8 threads x 1000 rounds: even rounds jump out of a
 *                 recursion 500+ frames deep, odd rounds jump to an inner
 *                 setjmp first and then past it to the outer one (nested);
 *                 every value is checked. Prints one line per thread, exit 0.
 *   sjlj trap     7 threads jump out of deep recursion without end while an
 *                 eighth traps (__builtin_trap) once they have all jumped
 *                 many times: the program ends as a trap (weft-run: 134).
 *   sjlj exit     the same, but the eighth thread calls exit(7): exit 7.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 8
#define ROUNDS 1000
#define DEPTH 500

static _Thread_local jmp_buf outer, inner;
static _Thread_local volatile long visited;
/* Jumps made by every thread together (the "trap" and "exit" modes). */
static atomic_long jumps_so_far;

static __attribute__((noinline)) long dive(int depth, int target, jmp_buf *where, int value)
{
    visited++;
    if (depth == target)
        longjmp(*where, value);
    /* Not a tail call: the work after the call keeps the frames alive. */
    return dive(depth + 1, target, where, value) + depth;
}

static __attribute__((noinline)) int nested(int round)
{
    volatile int stage = 0;
    int r = setjmp(inner);
    if (r == 0) {
        stage = 1;
        dive(0, DEPTH / 2 + round % 7, &inner, 7);
        return -1; /* not reached */
    }
    if (r != 7 || stage != 1)
        return -2;
    /* Past this frame, to the outer setjmp. */
    dive(0, DEPTH, &outer, 42);
    return -3; /* not reached */
}

/* The "jumps" mode: a fixed number of checked jumps. */
static void *counted(void *arg)
{
    long id = (long)arg;
    long ok = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int r = setjmp(outer);
        if (r == 0) {
            if (round % 2 == 0) {
                dive(0, DEPTH + (int)id, &outer, round + 1);
            } else {
                int e = nested(round);
                fprintf(stderr, "thread %ld round %d: nested returned %d\n", id, round, e);
                return (void *)-1L;
            }
        } else if ((round % 2 == 0 && r == round + 1) || (round % 2 == 1 && r == 42)) {
            ok++;
        } else {
            fprintf(stderr, "thread %ld round %d: bad longjmp value %d\n", id, round, r);
            return (void *)-1L;
        }
    }
    return (void *)ok;
}

/* The "trap" and "exit" modes: jump until the program ends. */
static void *endless(void *arg)
{
    long id = (long)arg;
    for (int round = 0;; round++) {
        int r = setjmp(outer);
        if (r == 0) {
            dive(0, DEPTH + (int)id, &outer, round % 1000 + 1);
        } else if (r != round % 1000 + 1) {
            fprintf(stderr, "thread %ld: bad longjmp value %d\n", id, r);
            abort();
        }
        atomic_fetch_add(&jumps_so_far, 1);
    }
    return NULL;
}

static int mode_trap;

/* Waits until the others have jumped a lot (while they keep jumping), then
 * traps or exits. */
static void *ender(void *arg)
{
    (void)arg;
    while (atomic_load(&jumps_so_far) < (THREADS - 1) * 200)
        sched_yield();
    if (mode_trap) {
        fprintf(stderr, "trapping after %ld jumps\n", (long)atomic_load(&jumps_so_far));
        __builtin_trap();
    }
    fprintf(stderr, "exiting after %ld jumps\n", (long)atomic_load(&jumps_so_far));
    exit(7);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "jumps";
    pthread_t t[THREADS];
    if (strcmp(mode, "trap") == 0 || strcmp(mode, "exit") == 0) {
        mode_trap = strcmp(mode, "trap") == 0;
        for (long i = 0; i < THREADS; i++)
            if (pthread_create(&t[i], NULL, i == THREADS - 1 ? ender : endless, (void *)i) != 0) {
                perror("pthread_create");
                return 1;
            }
        /* The main thread jumps too, until the program ends under it. */
        endless((void *)THREADS);
        return 1;
    }
    if (strcmp(mode, "jumps") != 0) {
        fprintf(stderr, "usage: sjlj [jumps|trap|exit]\n");
        return 2;
    }
    for (long i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, counted, (void *)i) != 0) {
            perror("pthread_create");
            return 1;
        }
    long total = 0;
    int failed = 0;
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        if ((long)ret < 0)
            failed = 1;
        else
            total += (long)ret;
        printf("thread %d: %ld jumps\n", i, (long)ret);
    }
    /* And once on the main thread. */
    if (setjmp(outer) == 0)
        dive(0, DEPTH, &outer, 1);
    printf("total %ld jumps, main thread ok\n", total);
    return failed || total != (long)THREADS * ROUNDS;
}
