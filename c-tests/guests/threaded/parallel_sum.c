/* Sums 1..N in 8 threads (each a slice), prints the total and whether every
 * thread saw a valid TID, and exits with code 0 if both are right. */
#include "threads.h"

#define N 1000000u
#define NTHREADS 8

static uint64_t partial[NTHREADS];
static int32_t tids[NTHREADS];
static int32_t done;

static void worker(int32_t tid, void *arg)
{
    uint32_t k = (uint32_t)(uintptr_t)arg;
    uint64_t s = 0;
    for (uint32_t i = k * (N / NTHREADS) + 1; i <= (k + 1) * (N / NTHREADS); i++) s += i;
    partial[k] = s;
    tids[k] = tid;
    atomic_add(&done, 1);
    futex_wake_all(&done);
}

void _start(void)
{
    char buf[24];
    for (uint32_t k = 0; k < NTHREADS; k++) {
        if (spawn((int)k, worker, (void *)(uintptr_t)k) <= 0) {
            write_str(2, "spawn failed\n");
            proc_exit(3);
        }
    }
    for (int32_t d; (d = atomic_load(&done)) != NTHREADS;) futex_wait(&done, d);
    uint64_t total = 0;
    for (int k = 0; k < NTHREADS; k++) total += partial[k];
    int valid = 1;
    for (int i = 0; i < NTHREADS; i++)
        if (tids[i] < 1 || tids[i] > 0x1FFFFFFF) valid = 0;
    write_str(1, "sum ");
    write_str(1, fmt_u32((uint32_t)(total / 1000000u), buf));
    write_str(1, "e6+");
    write_str(1, fmt_u32((uint32_t)(total % 1000000u), buf));
    write_str(1, valid ? " tids valid\n" : " tids INVALID\n");
    proc_exit(total == (uint64_t)N * (N + 1) / 2 && valid ? 0 : 1);
}
