/* Lock/condvar hand-off: two threads pass a token back and forth K times
 * through one mutex and two condition variables, so every step is a wake-up
 * of the other thread (futex wait + notify). Usage: handoff [K] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn[2] = {PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};
static long token, total;

static void *player(void *arg)
{
    long me = (long)arg;
    pthread_mutex_lock(&lock);
    while (token < total) {
        while (token % 2 != me && token < total) pthread_cond_wait(&turn[me], &lock);
        if (token >= total) break;
        token++;
        pthread_cond_signal(&turn[1 - me]);
    }
    pthread_cond_signal(&turn[1 - me]);
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv)
{
    total = argc > 1 ? atol(argv[1]) : 200000;
    pthread_t a, b;
    if (pthread_create(&a, NULL, player, (void *)0) || pthread_create(&b, NULL, player, (void *)1))
        return 1;
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("token=%ld\n", token);
    return token != total;
}
