/* A wasi-libc pthread guest for tests/embed.rs: its threads call the
 * embedder's typed host function `host` `bump`, and argv[1] picks how the
 * program ends (every outcome an embedder must see):
 *
 *   count N       N threads x 1000 bumps each, joined; prints the total
 *   exit-main     threads spin; main calls exit(3)
 *   exit-thread   a thread calls exit(7) while main waits in pthread_join
 *   trap-thread   a thread traps while main waits in pthread_join
 *   spin          threads and main spin forever (interrupt / timeout)
 *   wait          threads block in pthread_cond_wait forever, main joins
 *                 (an untimed memory.atomic.wait: only the rewrite stops it)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((import_module("host"), import_name("bump"))) extern long long host_bump(int by);

#define PER_THREAD 1000
#define MAX_THREADS 64

static volatile int forever = 1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *count(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++)
        host_bump(1);
    return NULL;
}

static void *spin(void *arg)
{
    (void)arg;
    while (forever) {
    }
    return NULL;
}

static void *exit_seven(void *arg)
{
    (void)arg;
    exit(7);
}

static void *trap(void *arg)
{
    (void)arg;
    __builtin_trap();
}

static void *wait_forever(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (forever)
        pthread_cond_wait(&never, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static int start(pthread_t *t, int n, void *(*fn)(void *))
{
    for (int i = 0; i < n; i++) {
        if (pthread_create(&t[i], NULL, fn, NULL) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    pthread_t t[MAX_THREADS];
    const char *mode = argc > 1 ? argv[1] : "count";
    if (strcmp(mode, "count") == 0) {
        int n = argc > 2 ? atoi(argv[2]) : 8;
        if (n < 1 || n > MAX_THREADS || !start(t, n, count))
            return 2;
        for (int i = 0; i < n; i++)
            pthread_join(t[i], NULL);
        printf("total %lld\n", host_bump(0));
        return 0;
    }
    if (strcmp(mode, "exit-main") == 0) {
        if (!start(t, 4, spin))
            return 2;
        exit(3);
    }
    void *(*fn)(void *) = NULL;
    if (strcmp(mode, "exit-thread") == 0)
        fn = exit_seven;
    else if (strcmp(mode, "trap-thread") == 0)
        fn = trap;
    else if (strcmp(mode, "spin") == 0)
        fn = spin;
    else if (strcmp(mode, "wait") == 0)
        fn = wait_forever;
    else
        return 2;
    if (!start(t, 4, fn))
        return 2;
    if (fn == spin)
        spin(NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    return 0;
}
