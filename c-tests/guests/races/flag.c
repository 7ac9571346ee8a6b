// Planted race: a thread fills `data` and publishes it through a plain
// (volatile, not atomic) flag; main spins on the flag and reads `data`.
// (races/flag_fixed.c uses an atomic flag.)
#include <pthread.h>
#include <stdio.h>

// Main and the producer meet first, so nothing the producer does while
// main is still in pthread_create orders the two.
static pthread_barrier_t start;
static int data[4];
static volatile int ready;

static void *producer(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < 4; i++) data[i] = i + 1;
    ready = 1;
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_barrier_init(&start, NULL, 2);
    pthread_create(&t, NULL, producer, NULL);
    pthread_barrier_wait(&start);
    while (!ready) {
    }
    int sum = 0;
    for (int i = 0; i < 4; i++) sum += data[i];
    pthread_join(t, NULL);
    printf("sum %d\n", sum);
    return 0;
}
