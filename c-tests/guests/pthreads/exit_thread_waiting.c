/* exit(23) from a thread while five others block in a mutex, a condvar, a
 * join, a sleep and a read, and main blocks in pthread_join: the program
 * ends at once with status 23. */
#include <stdlib.h>

#include "waiters.h"

static void *quit(void *arg)
{
    (void)arg;
    start_waiters();
    puts("exit(23) from a thread");
    exit(23);
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, quit, NULL);
    pthread_join(t, NULL);
    puts("unreachable: main joined");
    return 0;
}
