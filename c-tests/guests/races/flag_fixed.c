// races/flag.c with the flag published by an atomic store (release) and read
// by atomic loads (acquire): no race.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

// Main and the producer meet first, so nothing the producer does while
// main is still in pthread_create orders the two.
static pthread_barrier_t start;
static int data[4];
static atomic_int ready;

static void *producer(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < 4; i++) data[i] = i + 1;
    atomic_store_explicit(&ready, 1, memory_order_release);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_barrier_init(&start, NULL, 2);
    pthread_create(&t, NULL, producer, NULL);
    pthread_barrier_wait(&start);
    while (!atomic_load_explicit(&ready, memory_order_acquire)) {
    }
    int sum = 0;
    for (int i = 0; i < 4; i++) sum += data[i];
    pthread_join(t, NULL);
    printf("sum %d\n", sum);
    return 0;
}
