/* A thread executes an invalid operation (__builtin_trap); the program ends
 * as a trap (weft-run exits 134) while main waits in pthread_join. */
#include <pthread.h>
#include <stdio.h>

static void *crash(void *arg)
{
    (void)arg;
    __builtin_trap();
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, crash, NULL);
    pthread_join(t, NULL);
    puts("unreachable");
    return 0;
}
