/* Four threads say hello; main joins each and collects its return value. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

static void *hello(void *arg)
{
    intptr_t n = (intptr_t)arg;
    return (void *)(n * n);
}

int main(void)
{
    pthread_t t[4];
    for (intptr_t i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, hello, (void *)i) != 0) return 1;
    for (int i = 0; i < 4; i++) {
        void *ret;
        if (pthread_join(t[i], &ret) != 0) return 2;
        printf("thread %d returned %d\n", i, (int)(intptr_t)ret);
    }
    puts("all joined");
    return 0;
}
