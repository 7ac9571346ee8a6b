/* exit() from a thread ends the whole program with that status, while main
 * is blocked in pthread_join on a thread that never finishes. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *forever(void *arg)
{
    (void)arg;
    for (;;) sleep(1);
    return NULL;
}

static void *quitter(void *arg)
{
    (void)arg;
    puts("quitting from a thread");
    fflush(stdout);
    exit(17);
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, forever, NULL);
    pthread_create(&b, NULL, quitter, NULL);
    pthread_join(a, NULL);
    puts("unreachable");
    return 0;
}
