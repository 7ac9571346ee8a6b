/* malloc/free from 8 threads at once (wasi-libc's allocator is locked in
 * the threads build); each thread checks its own blocks stay intact. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *churn(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    for (int round = 0; round < 2000; round++) {
        size_t n = 16 + (size_t)((round * 37 + id * 11) % 2000);
        unsigned char *p = malloc(n);
        if (!p) return (void *)1;
        memset(p, (int)id, n);
        for (size_t i = 0; i < n; i++)
            if (p[i] != (unsigned char)id) return (void *)2;
        free(p);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[8];
    int bad = 0;
    for (uintptr_t i = 0; i < 8; i++) pthread_create(&t[i], NULL, churn, (void *)i);
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        if (r) bad++;
    }
    printf("malloc from 8 threads: %s\n", bad ? "CORRUPTED" : "ok");
    return bad;
}
