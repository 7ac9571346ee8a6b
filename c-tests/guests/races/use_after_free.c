// Planted race: a thread frees a buffer while main, with nothing ordering
// the two, still writes into it (free writes its bookkeeping there).
// (races/use_after_free_fixed.c writes before the thread exists.)
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int *buf;
// The thread lives on until main is done: its exit would take locks main
// may take too, ordering the two.
static atomic_int go;

static void *release(void *arg)
{
    (void)arg;
    free(buf);
    while (!atomic_load(&go)) {
    }
    return NULL;
}

int main(void)
{
    buf = malloc(64 * sizeof(int));
    // Keeps `buf` off the top chunk, so free links it into a bin: it
    // writes list pointers into the buffer itself.
    void *guard = malloc(64);
    pthread_t t;
    pthread_create(&t, NULL, release, NULL);
    usleep(20000);
    buf[0] = 42;
    buf[1] = 43;
    atomic_store(&go, 1);
    pthread_join(t, NULL);
    free(guard);
    printf("done\n");
    return 0;
}
