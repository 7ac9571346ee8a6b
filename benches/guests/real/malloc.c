/* malloc/free stress: T threads each do K rounds of freeing and allocating a
 * random slot of a private ring of 64 blocks of 16..4096 bytes, writing each
 * block. In wasi-libc every call takes dlmalloc's one global lock, so the
 * threads contend for it (futex wait/notify). Usage: malloc [T [K]] */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long rounds;

static void *stress(void *arg)
{
    uint32_t x = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
    void *ring[64] = {0};
    uint64_t check = 0;
    for (long i = 0; i < rounds; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        unsigned slot = x & 63;
        size_t size = 16 + (x >> 8) % 4081;
        free(ring[slot]);
        ring[slot] = malloc(size);
        if (!ring[slot]) return (void *)1;
        memset(ring[slot], (int)i, size < 64 ? size : 64);
        check += ((unsigned char *)ring[slot])[0];
    }
    for (int s = 0; s < 64; s++) free(ring[s]);
    return (void *)(uintptr_t)(check == 0xffffffffffffffffull);
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 8;
    rounds = argc > 2 ? atol(argv[2]) : 400000;
    if (threads < 1 || threads > 64) return 2;
    pthread_t tid[64];
    for (int t = 0; t < threads; t++)
        if (pthread_create(&tid[t], NULL, stress, (void *)(uintptr_t)(t + 1))) return 1;
    int bad = 0;
    for (int t = 0; t < threads; t++) {
        void *r;
        pthread_join(tid[t], &r);
        bad |= r != NULL;
    }
    printf("ok=%d\n", !bad);
    return bad;
}
