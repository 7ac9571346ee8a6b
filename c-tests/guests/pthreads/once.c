/* pthread_once: 16 threads released together by a barrier all call
 * pthread_once; the init routine (slow on purpose) runs exactly once, and
 * every caller returns only after it finished. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define T 16

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_barrier_t start;
static int runs, done;

static void init(void)
{
    __atomic_fetch_add(&runs, 1, __ATOMIC_SEQ_CST);
    usleep(20000);
    __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
}

static void *call(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    pthread_once(&once, init);
    return (void *)(intptr_t)__atomic_load_n(&done, __ATOMIC_SEQ_CST);
}

int main(void)
{
    pthread_t t[T];
    int saw_done = 0;
    pthread_barrier_init(&start, NULL, T);
    for (int i = 0; i < T; i++) pthread_create(&t[i], NULL, call, NULL);
    for (int i = 0; i < T; i++) {
        void *r;
        pthread_join(t[i], &r);
        saw_done += (int)(intptr_t)r;
    }
    pthread_once(&once, init);
    printf("init ran %d time(s); %d of %d callers returned after it finished\n", runs, saw_done, T);
    return 0;
}
