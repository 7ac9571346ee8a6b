/* Detached threads, three ways (PTHREAD_CREATE_DETACHED, pthread_detach from
 * main, pthread_detach(pthread_self())): 300 of them in 10 rounds, run with
 * --max-threads 16, so their slots must be given back as they end. A
 * create refused for lack of a slot (EAGAIN: a thread that signalled "done"
 * may not have ended yet) is retried. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define ROUNDS 10
#define PER_ROUND 30

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int finished, ran[3];

static void *work(void *arg)
{
    int how = (int)(intptr_t)arg;
    if (how == 2) pthread_detach(pthread_self());
    pthread_mutex_lock(&m);
    ran[how]++;
    finished++;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
    return NULL;
}

static int create(int how, const pthread_attr_t *attr)
{
    pthread_t t;
    int r;
    for (int tries = 0; (r = pthread_create(&t, attr, work, (void *)(intptr_t)how)) == EAGAIN && tries < 5000; tries++)
        usleep(1000);
    if (r != 0) return r;
    if (how == 1) return pthread_detach(t);
    return 0;
}

int main(void)
{
    pthread_attr_t detached;
    int state = -1;
    pthread_attr_init(&detached);
    pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
    pthread_attr_getdetachstate(&detached, &state);
    printf("attr detach state is PTHREAD_CREATE_DETACHED: %s\n", state == PTHREAD_CREATE_DETACHED ? "yes" : "no");
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < PER_ROUND; i++) {
            int how = i % 3;
            int r = create(how, how == 0 ? &detached : NULL);
            if (r != 0) {
                printf("round %d thread %d: error %d\n", round, i, r);
                return 1;
            }
        }
        pthread_mutex_lock(&m);
        while (finished < (round + 1) * PER_ROUND) pthread_cond_wait(&c, &m);
        pthread_mutex_unlock(&m);
    }
    printf("%d detached threads ran: %d by attribute, %d detached by main, %d detached themselves\n",
           finished, ran[0], ran[1], ran[2]);
    return 0;
}
