/* Run with --max-threads 8 (threads besides main): pthread_create succeeds 8
 * times, then fails with EAGAIN while those threads live; once they are
 * joined, the program can create threads again, up to the same limit. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define MAX 64

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int open_gate;

static void *wait_at_gate(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    while (!open_gate) pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    return NULL;
}

/* Creates threads until pthread_create fails; `patient` retries EAGAIN for a
 * while first (a joined thread may still be ending on the host). */
static int fill(pthread_t *t, int patient, int *err)
{
    int n = 0;
    while (n < MAX) {
        int r = pthread_create(&t[n], NULL, wait_at_gate, NULL);
        for (int tries = 0; r == EAGAIN && patient && tries < 2000; tries++) {
            usleep(1000);
            r = pthread_create(&t[n], NULL, wait_at_gate, NULL);
        }
        if (r != 0) {
            *err = r;
            break;
        }
        n++;
        if (patient && n == patient) {
            *err = pthread_create(&t[n], NULL, wait_at_gate, NULL);
            if (*err == 0) n++;
            break;
        }
    }
    return n;
}

static void release(pthread_t *t, int n)
{
    pthread_mutex_lock(&m);
    open_gate = 1;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    open_gate = 0;
}

int main(void)
{
    pthread_t t[MAX + 1];
    int err = 0;
    int first = fill(t, 0, &err);
    printf("first wave: %d threads created, then %s\n", first, err == EAGAIN ? "EAGAIN" : "another error");
    release(t, first);
    int second = fill(t, first, &err);
    printf("after joining them: %d threads created again, then %s\n", second, err == EAGAIN ? "EAGAIN" : "another error");
    release(t, second);
    return 0;
}
