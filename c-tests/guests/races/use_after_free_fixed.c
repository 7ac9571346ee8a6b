// races/use_after_free.c with the writes made before the thread that frees
// the buffer is created: thread-spawn orders them before the free.
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
    void *guard = malloc(64);
    buf[0] = 42;
    buf[1] = 43;
    pthread_t t;
    pthread_create(&t, NULL, release, NULL);
    usleep(20000);
    atomic_store(&go, 1);
    pthread_join(t, NULL);
    free(guard);
    printf("done\n");
    return 0;
}
