/* End latency: starts N threads (argv[1]) that spin in a loop, waits until
 * all of them run, writes "ready\n" to stdout and calls exit(3). The bench
 * times from reading "ready" to the end of the process. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sched.h>

static atomic_int started;

static void *spin(void *arg)
{
    volatile unsigned long n = 0;
    (void)arg;
    atomic_fetch_add(&started, 1);
    for (;;) n++;
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10, i;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, spin, NULL)) {
            fprintf(stderr, "pthread_create failed at %d\n", i);
            return 1;
        }
    }
    while (atomic_load(&started) < n) sched_yield();
    if (write(1, "ready\n", 6) != 6) return 1;
    exit(3);
}
