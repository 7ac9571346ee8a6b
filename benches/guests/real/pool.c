/* A worker pool sized the way a portable program sizes it: OMP_NUM_THREADS
 * if set, else sysconf(_SC_NPROCESSORS_ONLN) (1 on wasm: wasi-libc cannot
 * know). The workers take J jobs from a shared counter; each job mixes K
 * values. The result does not depend on the pool's size. Usage: pool [J [K]] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long jobs, work;
static atomic_long next_job;
static uint64_t *results;

static void *worker(void *arg)
{
    (void)arg;
    for (long j; (j = atomic_fetch_add(&next_job, 1)) < jobs;) {
        uint64_t x = (uint64_t)j * 0x9e3779b97f4a7c15ull + 1, acc = 0;
        for (long i = 0; i < work; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            acc += x * 0xff51afd7ed558ccdull >> 29;
        }
        results[j] = acc;
    }
    return NULL;
}

/* How many threads to start: the variable that hosts (weft-run, OpenMP
 * launchers, GNU nproc) use to say it, else the CPUs the libc reports. */
static long pool_size(void)
{
    const char *env = getenv("OMP_NUM_THREADS");
    long n = env ? strtol(env, NULL, 10) : 0;
    if (n < 1) n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    return n > 64 ? 64 : n;
}

int main(int argc, char **argv)
{
    jobs = argc > 1 ? atol(argv[1]) : 256;
    work = argc > 2 ? atol(argv[2]) : 1000000;
    if (jobs < 1 || work < 1) return 2;
    results = calloc((size_t)jobs, sizeof *results);
    if (!results) return 1;
    long n = pool_size();
    pthread_t tid[64];
    for (long t = 0; t < n; t++)
        if (pthread_create(&tid[t], NULL, worker, NULL)) return 1;
    for (long t = 0; t < n; t++) pthread_join(tid[t], NULL);
    uint64_t sum = 0;
    for (long j = 0; j < jobs; j++) sum ^= results[j] + (uint64_t)j;
    printf("sum=%llu\n", (unsigned long long)sum);
    return 0;
}
