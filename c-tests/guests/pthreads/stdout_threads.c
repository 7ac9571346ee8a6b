/* 8 threads each print 10 whole lines through stdio. */
#include <pthread.h>
#include <stdio.h>

static void *say(void *arg)
{
    int id = *(int *)arg;
    for (int i = 0; i < 10; i++) printf("thread %d line %d\n", id, i);
    return NULL;
}

int main(void)
{
    pthread_t t[8];
    int ids[8];
    for (int i = 0; i < 8; i++) {
        ids[i] = i;
        pthread_create(&t[i], NULL, say, &ids[i]);
    }
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    return 0;
}
