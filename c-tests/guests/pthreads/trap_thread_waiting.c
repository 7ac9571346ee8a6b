/* A trap in a thread while five others block in a mutex, a condvar, a join,
 * a sleep and a read, and main blocks in pthread_join: the program ends as
 * a trap (weft-run exits 134). */
#include "waiters.h"

static void *crash(void *arg)
{
    (void)arg;
    start_waiters();
    puts("trap in a thread");
    fflush(stdout);
    __builtin_trap();
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, crash, NULL);
    pthread_join(t, NULL);
    puts("unreachable: main joined");
    return 0;
}
