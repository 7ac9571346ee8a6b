/* Sums 1..10,000,000 in 8 threads, each over its own slice. */
#include <pthread.h>
#include <stdio.h>

#define N 10000000LL
#define T 8

static long long partial[T];

static void *sum(void *arg)
{
    int k = *(int *)arg;
    long long s = 0;
    for (long long i = k * (N / T) + 1; i <= (k + 1) * (N / T); i++) s += i;
    partial[k] = s;
    return NULL;
}

int main(void)
{
    pthread_t t[T];
    int ids[T];
    long long total = 0;
    for (int k = 0; k < T; k++) {
        ids[k] = k;
        pthread_create(&t[k], NULL, sum, &ids[k]);
    }
    for (int k = 0; k < T; k++) {
        pthread_join(t[k], NULL);
        total += partial[k];
    }
    printf("sum %lld\n", total);
    return total == N * (N + 1) / 2 ? 0 : 1;
}
