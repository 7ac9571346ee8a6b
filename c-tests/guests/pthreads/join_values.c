/* pthread_join hands back each thread's return value: small integers, a
 * pointer to a heap block the thread filled in, NULL; threads joined in
 * the reverse order of creation and long after they finished. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct result {
    int id;
    long long sum;
};

static void *square(void *arg)
{
    intptr_t n = (intptr_t)arg;
    return (void *)(n * n);
}

static void *heap_result(void *arg)
{
    struct result *r = malloc(sizeof *r);
    r->id = (int)(intptr_t)arg;
    r->sum = 0;
    for (int i = 1; i <= 1000 * r->id; i++) r->sum += i;
    return r;
}

static void *nothing(void *arg)
{
    return arg;
}

int main(void)
{
    pthread_t t[6];
    void *ret;
    for (intptr_t i = 0; i < 6; i++) pthread_create(&t[i], NULL, square, (void *)(i + 10));
    for (int i = 5; i >= 0; i--) {
        pthread_join(t[i], &ret);
        printf("square thread %d returned %d\n", i, (int)(intptr_t)ret);
    }
    for (intptr_t i = 0; i < 3; i++) pthread_create(&t[i], NULL, heap_result, (void *)(i + 1));
    usleep(50000); /* they are long done when joined */
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], &ret);
        struct result *r = ret;
        printf("heap thread %d returned id %d, sum %lld\n", i, r->id, r->sum);
        free(r);
    }
    pthread_create(&t[0], NULL, nothing, NULL);
    ret = (void *)1;
    printf("join: %d, ", pthread_join(t[0], &ret));
    printf("returned %s\n", ret == NULL ? "NULL" : "not NULL");
    pthread_create(&t[0], NULL, nothing, (void *)-1);
    pthread_join(t[0], NULL); /* the value may be ignored */
    puts("joined without taking the value");
    return 0;
}
