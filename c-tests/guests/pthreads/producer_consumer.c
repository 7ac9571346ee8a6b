/* A bounded queue with a mutex and two condition variables: 2 producers,
 * 2 consumers, 10000 items; the consumers' sums must add up. */
#include <pthread.h>
#include <stdio.h>

#define CAP 8
#define PER_PRODUCER 5000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static int queue[CAP], head, count, producers_left = 2;

static void *producer(void *arg)
{
    int base = *(int *)arg;
    for (int i = 1; i <= PER_PRODUCER; i++) {
        pthread_mutex_lock(&lock);
        while (count == CAP) pthread_cond_wait(&not_full, &lock);
        queue[(head + count++) % CAP] = base + i;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    producers_left--;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *consumer(void *arg)
{
    long long *sum = arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (count == 0 && producers_left > 0) pthread_cond_wait(&not_empty, &lock);
        if (count == 0) {
            pthread_mutex_unlock(&lock);
            return NULL;
        }
        int v = queue[head];
        head = (head + 1) % CAP;
        count--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);
        *sum += v;
    }
}

int main(void)
{
    pthread_t p[2], c[2];
    int bases[2] = {0, 100000};
    long long sums[2] = {0, 0};
    for (int i = 0; i < 2; i++) pthread_create(&p[i], NULL, producer, &bases[i]);
    for (int i = 0; i < 2; i++) pthread_create(&c[i], NULL, consumer, &sums[i]);
    for (int i = 0; i < 2; i++) pthread_join(p[i], NULL);
    for (int i = 0; i < 2; i++) pthread_join(c[i], NULL);
    long long want = 2LL * PER_PRODUCER * (PER_PRODUCER + 1) / 2 + 100000LL * PER_PRODUCER;
    printf("total %lld (expected %lld)\n", sums[0] + sums[1], want);
    return sums[0] + sums[1] == want ? 0 : 1;
}
