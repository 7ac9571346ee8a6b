/* memory.grow from a thread while 3 others keep reading: the grower adds 16
 * pages at a time, 10 times, and writes a marker into each new page; the
 * readers follow memory.size and check the markers of every page that has
 * appeared, and old data stays intact. Growing past the maximum (64 MiB,
 * the guest's --max-memory) fails with -1 and changes nothing. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define PAGE 65536
#define STEP 16
#define STEPS 10
#define R 3

static volatile uint32_t old_data[1024];
static size_t start_size, range[STEPS]; /* range[s]: first page of step s */
static int steps, done;

static uint32_t marker(size_t page)
{
    return (uint32_t)(page * 2654435761u);
}

static void *grower(void *arg)
{
    (void)arg;
    start_size = __builtin_wasm_memory_size(0);
    for (int s = 0; s < STEPS; s++) {
        size_t before = __builtin_wasm_memory_grow(0, STEP);
        if (before == (size_t)-1) return (void *)1;
        for (size_t p = before; p < before + STEP; p++) {
            uint32_t *word = (uint32_t *)(uintptr_t)(p * PAGE);
            if (word[PAGE / 4 - 1] != 0) return (void *)2; /* new pages are zero */
            word[PAGE / 4 - 1] = marker(p);
            __atomic_store_n(&word[0], marker(p), __ATOMIC_RELEASE);
        }
        range[s] = before;
        __atomic_store_n(&steps, s + 1, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    intptr_t bad = 0;
    for (;;) {
        int finished = __atomic_load_n(&done, __ATOMIC_ACQUIRE);
        int n = __atomic_load_n(&steps, __ATOMIC_ACQUIRE);
        for (int s = 0; s < n; s++) {
            if (__builtin_wasm_memory_size(0) < range[s] + STEP) bad++;
            for (size_t p = range[s]; p < range[s] + STEP; p++) {
                uint32_t *word = (uint32_t *)(uintptr_t)(p * PAGE);
                if (__atomic_load_n(&word[0], __ATOMIC_ACQUIRE) != marker(p) || word[PAGE / 4 - 1] != marker(p)) bad++;
            }
        }
        for (int i = 0; i < 1024; i++)
            if (old_data[i] != (uint32_t)i * 3u) bad++;
        if (finished) break;
    }
    return (void *)bad;
}

int main(void)
{
    for (int i = 0; i < 1024; i++) old_data[i] = (uint32_t)i * 3u;
    pthread_t g, r[R];
    for (int i = 0; i < R; i++) pthread_create(&r[i], NULL, reader, NULL);
    pthread_create(&g, NULL, grower, NULL);
    void *ret;
    pthread_join(g, &ret);
    printf("grower: %s\n", ret ? "failed" : "ok");
    intptr_t bad = 0;
    for (int i = 0; i < R; i++) {
        pthread_join(r[i], &ret);
        bad += (intptr_t)ret;
    }
    printf("%d readers saw %d new pages and their markers, %d mismatches\n", R, steps * STEP, (int)bad);
    size_t now = __builtin_wasm_memory_size(0);
    printf("main sees memory grown by %d pages\n", (int)(now - start_size));
    printf("grow past the maximum: %d, size unchanged: %s\n", (int)__builtin_wasm_memory_grow(0, 65536),
           __builtin_wasm_memory_size(0) == now ? "yes" : "no");
    return 0;
}
