/* Spawn storm: the main thread starts two threads that create spinning
 * threads in a tight loop (ignoring failures at the thread limit), then
 * exits with 7 at once. Every run must end promptly, however many threads
 * are being created at that moment (issue 21). */
#include <pthread.h>
#include <stdlib.h>

static void *spin(void *arg)
{
    volatile unsigned long n = 0;
    (void)arg;
    for (;;) n++;
    return NULL;
}

static void *spawner(void *arg)
{
    pthread_attr_t attr;
    (void)arg;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (;;) {
        pthread_t t;
        (void)pthread_create(&t, &attr, spin, NULL);
    }
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    if (pthread_create(&a, NULL, spawner, NULL) || pthread_create(&b, NULL, spawner, NULL))
        return 1;
    exit(7);
}
