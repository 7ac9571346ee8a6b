/* _Thread_local: every thread has its own copy, initialised from the TLS image. */
#include <pthread.h>
#include <stdio.h>

static _Thread_local int counter = 100;
static int results[8];

static void *work(void *arg)
{
    int id = *(int *)arg;
    for (int i = 0; i < id; i++) counter++;
    results[id] = counter;
    return NULL;
}

int main(void)
{
    pthread_t t[8];
    int ids[8];
    for (int i = 0; i < 8; i++) {
        ids[i] = i;
        pthread_create(&t[i], NULL, work, &ids[i]);
    }
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 8; i++) printf("thread %d saw %d\n", i, results[i]);
    printf("main still sees %d\n", counter);
    return 0;
}
