/* Parallel sum with pthreads: T threads each sum their slice of an array of
 * N 32-bit values, R passes. The same source is built for wasm32-wasip1-threads
 * (wasi-sdk) and natively (gcc -O2 -pthread). Usage: psum [T [N [R]]] */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t *data;
static size_t n;
static int passes;

struct slice {
    size_t begin, end;
    uint64_t sum;
};

static void *sum_slice(void *arg)
{
    struct slice *s = arg;
    uint64_t sum = 0;
    for (int p = 0; p < passes; p++)
        for (size_t i = s->begin; i < s->end; i++)
            sum += (uint64_t)(data[i] ^ (uint32_t)p) * 2654435761u;
    s->sum = sum;
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    n = argc > 2 ? strtoul(argv[2], NULL, 10) : 8u << 20;
    passes = argc > 3 ? atoi(argv[3]) : 24;
    if (threads < 1 || threads > 64 || n == 0) return 2;
    data = malloc(n * sizeof *data);
    if (!data) return 1;
    for (size_t i = 0; i < n; i++) data[i] = (uint32_t)(i * 2246822519u);
    pthread_t tid[64];
    struct slice s[64];
    for (int t = 0; t < threads; t++) {
        s[t].begin = n * t / threads;
        s[t].end = n * (t + 1) / threads;
        if (pthread_create(&tid[t], NULL, sum_slice, &s[t])) return 1;
    }
    uint64_t total = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        total += s[t].sum;
    }
    printf("sum=%llu\n", (unsigned long long)total);
    return 0;
}
