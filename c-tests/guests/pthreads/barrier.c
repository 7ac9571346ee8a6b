/* pthread_barrier_wait: 6 threads run 100 rounds; in each round every thread
 * adds to a counter before the barrier and checks it after; exactly one
 * thread per round gets PTHREAD_BARRIER_SERIAL_THREAD. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define T 6
#define ROUNDS 100

static pthread_barrier_t b;
static int arrived, serial;

static void *work(void *arg)
{
    (void)arg;
    intptr_t wrong = 0;
    for (int round = 0; round < ROUNDS; round++) {
        __atomic_fetch_add(&arrived, 1, __ATOMIC_SEQ_CST);
        int r = pthread_barrier_wait(&b);
        if (r == PTHREAD_BARRIER_SERIAL_THREAD)
            __atomic_fetch_add(&serial, 1, __ATOMIC_SEQ_CST);
        else if (r != 0)
            wrong++;
        if (__atomic_load_n(&arrived, __ATOMIC_SEQ_CST) < (round + 1) * T) wrong++;
        pthread_barrier_wait(&b); /* nobody starts the next round early */
        if (__atomic_load_n(&arrived, __ATOMIC_SEQ_CST) != (round + 1) * T) wrong++;
        pthread_barrier_wait(&b);
    }
    return (void *)wrong;
}

int main(void)
{
    pthread_t t[T];
    pthread_barrier_init(&b, NULL, T);
    for (int i = 0; i < T; i++) pthread_create(&t[i], NULL, work, NULL);
    intptr_t wrong = 0;
    for (int i = 0; i < T; i++) {
        void *r;
        pthread_join(t[i], &r);
        wrong += (intptr_t)r;
    }
    printf("%d threads, %d rounds: %d arrivals, %d serial threads (one per round), %d wrong counts\n",
           T, ROUNDS, arrived, serial, (int)wrong);
    printf("destroy: %d\n", pthread_barrier_destroy(&b));
    return 0;
}
