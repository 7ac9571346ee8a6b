// Planted race: two threads increment a counter with no lock.
// (races/counter_fixed.c takes a mutex.)
#include <pthread.h>
#include <stdio.h>

// Both threads start counting together, so no lock taken by one thread's
// exit orders its increments before the other's.
static pthread_barrier_t start;

static int counter;

static void *work(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < 1000; i++) counter++;
    return NULL;
}

int main(void)
{
    pthread_t t[2];
    pthread_barrier_init(&start, NULL, 2);
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, work, NULL);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    printf("counter %s\n", counter > 0 ? "positive" : "zero");
    return 0;
}
