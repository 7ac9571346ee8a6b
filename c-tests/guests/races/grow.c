// Planted race: two threads write the same word of a buffer that only
// exists after memory.grow (malloc grows the memory for it), without a lock.
// (races/grow_fixed.c takes a mutex.)
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define SIZE (8 << 20)

static pthread_barrier_t start;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int *big;

static void *work(void *arg)
{
    pthread_barrier_wait(&start);
    if (arg) pthread_mutex_lock(&lock);
    big[SIZE / sizeof(int) - 1] += 1;
    if (arg) pthread_mutex_unlock(&lock);
    return NULL;
}

int run(int locked)
{
    size_t before = __builtin_wasm_memory_size(0);
    big = malloc(SIZE);
    if (!big || __builtin_wasm_memory_size(0) == before) return 1;
    pthread_t t[2];
    pthread_barrier_init(&start, NULL, 2);
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, work, locked ? &lock : NULL);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    printf("grown, then written\n");
    return 0;
}

#ifndef LOCKED
#define LOCKED 0
#endif

int main(void)
{
    return run(LOCKED);
}
