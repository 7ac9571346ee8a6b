/* Start-up: the smallest useful threaded program (one thread, joined). */
#include <pthread.h>
#include <stdio.h>

static void *child(void *arg)
{
    *(int *)arg = 42;
    return NULL;
}

int main(void)
{
    pthread_t t;
    int v = 0;
    if (pthread_create(&t, NULL, child, &v) || pthread_join(t, NULL)) return 1;
    printf("v=%d\n", v);
    return v != 42;
}
