/* GNU __thread variables, including an initialised array: each thread gets
 * its own copy from the TLS image, at its own address, and main's copy is
 * untouched. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define T 8

static __thread int counter = 7;
static __thread char name[16] = "initial";
static __thread long long big[64] = {1, 2, 3};
static uintptr_t addr[T];
static char seen[T][16];
static long long sums[T];

static void *work(void *arg)
{
    int id = (int)(intptr_t)arg;
    counter += id;
    snprintf(name, sizeof name, "thread-%d", id);
    for (int i = 0; i < 64; i++) big[i] += id;
    sched_yield();
    addr[id] = (uintptr_t)&counter;
    memcpy(seen[id], name, sizeof name);
    for (int i = 0; i < 64; i++) sums[id] += big[i];
    return (void *)(intptr_t)counter;
}

int main(void)
{
    pthread_t t[T];
    for (int i = 0; i < T; i++) pthread_create(&t[i], NULL, work, (void *)(intptr_t)i);
    for (int i = 0; i < T; i++) {
        void *r;
        pthread_join(t[i], &r);
        printf("thread %d: counter %d, name %s, sum %lld\n", i, (int)(intptr_t)r, seen[i], sums[i]);
    }
    int distinct = 1;
    for (int i = 0; i < T; i++)
        for (int j = i + 1; j < T; j++)
            if (addr[i] == addr[j]) distinct = 0;
    printf("addresses distinct: %s\n", distinct ? "yes" : "no");
    printf("main: counter %d, name %s, big[0..3] %lld %lld %lld %lld\n", counter, name, big[0], big[1], big[2], big[3]);
    return 0;
}
